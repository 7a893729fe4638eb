"""tbdap: a Debug Adapter Protocol server that replays a tbdump dump as if paused at the exception."""
