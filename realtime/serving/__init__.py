"""`realtime serve`: the live demo in a browser over WebRTC, stylised on the server's GPU or CPU.

`server.StyleServer` is the API the command line is a thin layer over. Below it, one idea per module: `app`
the HTTP routes, `auth` the token and Host checks, `uploads` the checks on uploaded paintings, `gallery` the
styles with their targets and thumbnails, `viewers` the connections up to `--max-clients`, `peer` one of them,
`controls` its settings messages, `track` its outgoing video (the newest frame only), `compose` its frames
before and after the generator, `generator` the generator every viewer shares, `settings` the defaults,
`listener` listening and stopping (both servers'). `site.SiteServer` serves the page of `realtime export-web`
instead (`--client-side`), whose generator runs in the viewer's browser.
"""
