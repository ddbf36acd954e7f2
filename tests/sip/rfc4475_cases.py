"""The 49 messages of RFC 4475 §3 (tests/sip/rfc4475/<name>.dat, the RFC's own names) and what
the switch does with each.

``TU``: a valid request that goes on to the registrar or the call engine (whose answer is its
own business: a challenge, 200 to OPTIONS, 405 to MESSAGE). ``DROP``: a response that matches
nothing we sent (valid or not, §18.1.2 / RFC 4475: "discard") or bytes with no request line.
A number: the status the server itself answers with.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "rfc4475"

TU = "tu"
DROP = "drop"

# name -> (RFC 4475 section, expected)
CASES: dict[str, tuple[str, str | int]] = {
    # 3.1.1 valid messages: every one parses
    "wsinv": ("3.1.1.1", TU),
    "intmeth": ("3.1.1.2", 501),  # unknown method: "endpoints will generate a 501"
    "esc01": ("3.1.1.3", TU),
    "escnull": ("3.1.1.4", TU),
    "esc02": ("3.1.1.5", 501),  # RE%47IST%45R is not REGISTER
    "lwsdisp": ("3.1.1.6", TU),
    "longreq": ("3.1.1.7", TU),
    "dblreq": ("3.1.1.8", TU),  # the trailing INVITE is noise after Content-Length
    "semiuri": ("3.1.1.9", TU),
    "transports": ("3.1.1.10", TU),
    "mpart01": ("3.1.1.11", TU),
    "unreason": ("3.1.1.12", DROP),
    "noreason": ("3.1.1.13", DROP),
    # 3.1.2 invalid messages
    "badinv01": ("3.1.2.1", 400),
    "clerr": ("3.1.2.2", 400),
    "ncl": ("3.1.2.3", 400),
    "scalar02": ("3.1.2.4", 400),
    "scalarlg": ("3.1.2.5", DROP),
    "quotbal": ("3.1.2.6", 400),
    "ltgtruri": ("3.1.2.7", 400),
    "lwsruri": ("3.1.2.8", 400),
    "lwsstart": ("3.1.2.9", 400),
    "trws": ("3.1.2.10", 400),
    "escruri": ("3.1.2.11", 400),
    "baddate": ("3.1.2.12", 400),
    "regbadct": ("3.1.2.13", 400),
    "badaspec": ("3.1.2.14", 400),
    "baddn": ("3.1.2.15", 400),
    "badvers": ("3.1.2.16", 505),
    "mismatch01": ("3.1.2.17", 400),
    "mismatch02": ("3.1.2.18", 501),  # "501 ... has better future-proof characteristics"
    "bigcode": ("3.1.2.19", DROP),
    # 3.2 transaction layer
    "badbranch": ("3.2.1", 400),
    # 3.3 application layer
    "insuf": ("3.3.1", 400),
    "unkscm": ("3.3.2", 416),
    "novelsc": ("3.3.3", 416),
    "unksm2": ("3.3.4", 416),
    "bext01": ("3.3.5", 420),
    "invut": ("3.3.6", 415),
    "regaut01": ("3.3.7", TU),  # the registrar challenges with a scheme it knows
    "multi01": ("3.3.8", 400),
    "mcl01": ("3.3.9", 400),
    "bcast": ("3.3.10", DROP),
    "zeromf": ("3.3.11", TU),  # OPTIONS to an endpoint: answered as if Max-Forwards were positive
    "cparam01": ("3.3.12", TU),
    "cparam02": ("3.3.13", TU),
    "regescrt": ("3.3.14", TU),
    "sdp01": ("3.3.15", 406),
    # 3.4 backward compatibility
    "inv2543": ("3.4.1", TU),
}


def message(name: str) -> bytes:
    return (DATA / f"{name}.dat").read_bytes()
