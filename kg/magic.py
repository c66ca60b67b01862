"""The `%%sparql` IPython cell magic: a cell of SPARQL run on the endpoint (`%load_ext parley.kg.magic`)."""
from __future__ import annotations

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from parley.kg.client import Endpoint, endpoint_url
from parley.kg.errors import KGError, ParameterError


@magics_class
class SparqlMagics(Magics):
    """Holds one Endpoint per URL so that a notebook reuses its HTTP connection."""

    def __init__(self, shell):
        super().__init__(shell)
        self._endpoints: dict[str, Endpoint] = {}

    @magic_arguments()
    @argument("-e", "--endpoint", default=None,
              help="URL of the SPARQL endpoint (default: $PARLEY_ENDPOINT, else "
                   "http://127.0.0.1:5000/sparql)")
    @argument("-l", "--labels", action="store_true",
              help="add a <var>Label column beside each IRI column")
    @argument("-o", "--output", default=None, metavar="NAME",
              help="also store the answer in the notebook variable NAME")
    @argument("-b", "--bind", action="append", default=[], metavar="VAR=NAME",
              help="bind ?VAR to the value of the notebook variable NAME (repeatable); "
                   "use an rdflib URIRef for an IRI")
    @cell_magic
    def sparql(self, line, cell):
        """Run the cell as a SPARQL query; SELECT gives a DataFrame, ASK a bool,
        CONSTRUCT/DESCRIBE an rdflib Graph."""
        options = parse_argstring(self.sparql, line)
        url = options.endpoint or endpoint_url()
        endpoint = self._endpoints.setdefault(url, Endpoint(url))
        try:
            bindings = dict(self._binding(item) for item in options.bind)
            answer = endpoint.query(cell, bindings=bindings or None, labels=options.labels)
        except KGError as error:
            # Still raised, so that "Run All" stops here, but shown as its message alone:
            # a traceback through requests and pandas would bury what the analyst must do.
            # IPython renders an exception through `_render_traceback_` when it has one.
            error._render_traceback_ = lambda: [f"{type(error).__name__}: {error}"]
            raise
        if options.output:
            self.shell.user_ns[options.output] = answer
        return answer

    def _binding(self, item: str) -> tuple[str, object]:
        variable, sep, name = item.partition("=")
        if not sep or not variable or not name:
            raise ParameterError(f"--bind {item!r} is not of the form VAR=NAME")
        if name not in self.shell.user_ns:
            raise ParameterError(f"--bind {item!r}: the notebook has no variable {name!r}")
        return variable.lstrip("?"), self.shell.user_ns[name]


def load_ipython_extension(ipython):
    ipython.register_magics(SparqlMagics)
