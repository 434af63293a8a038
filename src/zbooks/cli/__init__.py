"""The ``zbooks`` command line (typer). Heavy imports happen inside commands so that
``zbooks --help`` stays fast."""
