"""``python -m zbooks`` runs the command line, like the ``zbooks`` console script."""

from zbooks.cli.main import run

if __name__ == "__main__":
    run()
