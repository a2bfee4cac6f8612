"""Writes the bad-input corpus of CSV drops (run by hand: ``python tests/data/bad/make_corpus.py``); the files are committed."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
HEAD = "ref,first_name,last_name,dob,address,postcode\r\n"
GOOD = "G1,Ann,Smith,03/02/1980,1 High Street Leeds,LS1 1AB\r\n"


def _write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def main() -> None:
    _write("semicolon.csv", ("ref;first_name;last_name;dob;address;postcode\r\n"
                             "S1;Ann;Smith;03/02/1980;1 High Street, Leeds;LS1 1AB\r\n"
                             "S2;Bob;Jones;1975-06-30;2 Low Road, York;YO1 7HH\r\n"
                             "S3;Cat;Brown;12/12/1990;3 Mill Lane, Hull;HU1 1AA\r\n").encode())
    _write("cp1252_bom.csv", b"\xef\xbb\xbf" + (HEAD + "W1,Zo\xeb,O\x92Brien,03/02/1980,1 Caf\xe9 Street Leeds,LS1 1AB\r\n"
                                                "W2,Ren\xe9e,M\xfcller,1975-06-30,2 Low Road York,YO1 7HH\r\n")
           .encode("latin-1"))
    _write("cp1252.csv", (HEAD + "C1,Zo\xeb,O\x92Brien,03/02/1980,1 Caf\xe9 Street Leeds,LS1 1AB\r\n"
                          "C2,Ren\xe9e,M\xfcller,1975-06-30,2 Low Road York,YO1 7HH\r\n").encode("latin-1"))
    _write("utf8_bom.csv", "\ufeff".encode() + (HEAD + "U1,Zoë,O’Brien,03/02/1980,1 Café Street Leeds,LS1 1AB\r\n"
                                                "U2,Renée,Müller,1975-06-30,2 Low Road York,YO1 7HH\r\n").encode())
    _write("ragged.csv", (HEAD + GOOD + "R2,Bob,Jones\r\n"
                          "R3,Cat,Brown,12/12/1990,3 Mill Lane Hull,HU1 1AA,extra,more\r\n"
                          "R4,Dan,Green,01/01/1970,4 Park Road Leeds,LS2 2AB\r\n").encode())
    _write("embedded_newlines.csv", (HEAD + '"N1","Ann","Smith","03/02/1980","Flat 1\r\n1 High Street\nLeeds","LS1 1AB"\r\n'
                                     'N2,"Bob ""Bobby""",Jones,1975-06-30,"2 Low Road,\nYork",YO1 7HH\r\n'
                                     'N3,Cat,Brown,12/12/1990,3 Mill Lane Hull,HU1 1AA\r\n').encode())
    _write("sql_injection.csv", (HEAD + "Q1,Robert,Robert'); DROP TABLE students;--,03/02/1980,1 High Street Leeds,LS1 1AB\r\n"
                                 "Q2,' OR '1'='1,x'; DROP TABLE source_record;--,1975-06-30,2 Low Road York,YO1 7HH\r\n"
                                 '"Q3\'; DELETE FROM source_system;--",Cat,"Brown""; DROP TABLE quarantined_row;--",'
                                 "12/12/1990,3 Mill Lane Hull,HU1 1AA\r\n").encode())
    _write("impossible_dates.csv", (HEAD + GOOD + "D2,Bob,Jones,31/02/1980,2 Low Road York,YO1 7HH\r\n"
                                    "D3,Cat,Brown,2999-01-01,3 Mill Lane Hull,HU1 1AA\r\n"
                                    "D4,Dan,Green,00/00/0000,4 Park Road Leeds,LS2 2AB\r\n"
                                    "D5,Eve,White,1980-13-01,5 Park Road Leeds,LS2 2AB\r\n"
                                    "D6,Fay,Black,1066-10-14,6 Park Road Leeds,LS2 2AB\r\n").encode())
    _write("long_name.csv", (HEAD + GOOD + "L2,Bob," + "J" * 10_240 + ",1975-06-30,2 Low Road York,YO1 7HH\r\n").encode())
    _write("emoji.csv", (HEAD + "E1,Ann 😀,Smith 👩\u200d👩\u200d👧,03/02/1980,1 High Street 🏠 Leeds,LS1 1AB\r\n"
                         "E2,Bob,Jones🇬🇧,1975-06-30,2 Low Road York,YO1 7HH\r\n").encode())
    _write("nul_bytes.csv", (HEAD + GOOD + "Z2,Bo\x00b,Jones,1975-06-30,2 Low Road York,YO1 7HH\r\n"
                             "Z3,Cat,Brown,12/12/1990,3 Mill\x00 Lane Hull,HU1 1AA\r\n").encode())


if __name__ == "__main__":
    main()
