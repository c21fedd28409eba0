"""The ``hookd`` commands that talk to a running server through its API, one module (a typer
sub-app or command) per family."""
