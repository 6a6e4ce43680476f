import json


def handle(req):
    """hello: reads {"name": "..."} and greets; an empty body greets the world."""
    name = "world"
    if req.strip():
        data = json.loads(req)  # invalid JSON raises: the call fails with a 500
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object such as {\"name\": \"Ada\"}")
        name = str(data.get("name") or name)
    return {"message": "Hello, %s!" % name}
