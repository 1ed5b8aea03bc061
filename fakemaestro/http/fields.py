"""Header fields as Node's http module accepts them (`setHeader`): a name is an RFC 9110
token; a value holds tabs and the characters U+0020-U+007E and U+0080-U+00FF (written
as latin-1 bytes). The scenario check refuses what Node would refuse; fakemaestro.serving
uses the token rule for its quick check of the headers hypercorn writes."""
from __future__ import annotations

TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
NODE_VALUE = r"[\t\x20-\x7e\x80-\xff]*"
