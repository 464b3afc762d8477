"""The sandbox: a local replica of the X booking site (pages, API, SSO-style login, rules, bots,
a controllable clock). snipe's core never imports it; tests, demos and benchmarks do, through
`snipe.sandbox.app.create_app` and `snipe.sandbox.testing.running_sandbox`."""
