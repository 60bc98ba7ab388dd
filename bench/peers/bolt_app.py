"""The Bolt Python peer of `make bench`'s peers section: a minimal app served as Bolt documents
for ASGI (AsyncSlackRequestHandler under uvicorn), with request signature verification on. It
answers `/sev` with the same ephemeral ack sevtool sends and lets Bolt ack `reaction_added`;
nothing is stored. Run: uvicorn bolt_app:api --port PORT [--workers N]
"""

import os

from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

app = AsyncApp(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    # The bench's fake Slack answers the one auth.test Bolt makes for a single-workspace token.
    client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
)


@app.command("/sev")
async def sev(ack):
    await ack(response_type="ephemeral", text="Filing a SEV3 SEV…")


@app.event("reaction_added")
async def reaction_added():
    pass


api = AsyncSlackRequestHandler(app)
