# Crashes 900 calls deep; the e2e tests page its call stack in VS Code.
# Lines are found by their "# MARK:" comments, never by number.


def descend(n, trail):
    trail = trail + [n]
    if n == 0:
        return {"depth": len(trail)}["missing"]  # MARK: crash
    return descend(n - 1, trail)  # MARK: call


descend(900, [])
