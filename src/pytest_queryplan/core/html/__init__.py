"""The HTML report (``--queryplan-html``): plans as data the page draws (``plans.py``) and
the self-contained page itself (``page.py``, with ``page.css`` and ``page.js`` inlined)."""
