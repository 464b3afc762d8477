"""The web dashboard and its local JSON API: pages rendered by the server with a little vanilla
JavaScript (SSE for live updates), every asset shipped in this package. `create_app` builds it
over a services context; `serve` runs it beside the daemon or alone."""
