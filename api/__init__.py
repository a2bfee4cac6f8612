"""The golden-record API and the data stewards' web app, served by ``mdh serve``."""

from api.app import create_app

__all__ = ["create_app"]
