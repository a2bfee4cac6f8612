"""I/O with departmental systems: extracting source rows and publishing golden data back."""


class ConnectorError(Exception):
    """A source or receiver could not be read from or written to; the message names which."""
