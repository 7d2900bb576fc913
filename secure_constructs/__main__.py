"""`python -m secure_constructs`: the `secure-constructs` command."""

from secure_constructs.audit.cli import main

raise SystemExit(main())
