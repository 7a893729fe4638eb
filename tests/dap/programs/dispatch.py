"""A request dispatcher whose tables hold functions and classes, crashing on a code it has no
handler for."""


def not_found(request):
    return 404


def server_error(request):
    return 500


class Json:
    pass


class Xml:
    pass


def dispatch(code):
    by_code = {404: not_found, 500: server_error, 200: "ok"}
    by_name = {"missing": not_found, "broken": server_error}
    formats = [Json, Xml, "text"]
    pair = (not_found, Json)
    odd = {"__init__": not_found, None: Xml, (1, 2): server_error, "_private": Json, "it's": not_found}
    members = {Json, Xml}
    return by_code[code](None)


dispatch(302)
