"""A client whose API call fails: a requests Session with credentials, the request it
prepared and the response it got (made here, offline), raised by raise_for_status()."""
import requests
from requests.models import Response
from requests.structures import CaseInsensitiveDict


def fetch(session, url):
    prepared = session.prepare_request(requests.Request(
        "POST", url, json={"item": 1}, headers={"X-Api-Key": "header-key-31337"}))
    response = Response()  # what the server answered, without a network
    response.status_code = 500
    response.reason = "Internal Server Error"
    response.url = prepared.url
    response.request = prepared
    response.encoding = "utf-8"
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json",
                                            "Set-Cookie": "sid=cookie-value-4242"})
    response._content = b'{"error": "boom"}'
    response.raise_for_status()


session = requests.Session()
session.auth = ("alice", "basic-pass-1234")
session.headers["Authorization"] = "Bearer sk-live-abcdef123456"
fetch(session, "https://bob:url-pass-5678@api.example.com/v1/items?api_key=query-key-2468")
