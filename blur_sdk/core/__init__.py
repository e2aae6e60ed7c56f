"""The core library: decode -> detect -> render -> encode, with no knowledge of HTTP."""
