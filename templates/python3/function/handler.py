def handle(req):
    """Called once per request with the request body as a string.

    Request details are in os.environ as the watchdog sets them: Http_Method, Http_Path,
    Http_Query and one Http_<Header_Name> per header (for example Http_Content_Type).
    Return a string or bytes to send it as it is, or a dict/list to send it as JSON.
    Raise to fail the call: the error goes to stderr and the caller gets a 500.
    """
    return req
