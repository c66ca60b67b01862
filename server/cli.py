"""The `kg` console script: the library's commands plus `serve`."""
from parley.kg.cli import cli

def main():
    cli()
