"""``python -m tandem`` runs the CLI."""

from tandem.cli import main

raise SystemExit(main())
