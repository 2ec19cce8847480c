"""One call of every operation of the Python SDK against a running PyTake
(infra/e2e/sdk_test.go runs it with the SDK installed in a fresh venv).

Environment: PYTAKE_API_KEY, PYTAKE_API_URL (as .local/demo.env has them),
SDK_CUSTOMER (a number that wrote to the organisation's WhatsApp number in
the last 24 hours) and the organisation's WhatsApp settings
(WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_WABA_ID, WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET,
WHATSAPP_VERIFY_TOKEN). Webhook deliveries come to an HTTP server of this
script on 127.0.0.1 and are checked with pytake.webhooks. At the end every
operationId of GET /v1/openapi.json must have been called; prints "ok".
"""

from __future__ import annotations

import asyncio
import datetime
import http.server
import json
import os
import threading
import time
from typing import Any, Dict, List, Tuple

import pytake
from pytake import webhooks

called: set = set()
client = pytake.PyTake()
_request = client._request


def recording(op: Any) -> Any:
    called.add(op.operation_id)
    return _request(op)


client._request = recording  # type: ignore[method-assign]

# ---- a webhook endpoint ----
deliveries: List[Tuple[Dict[str, str], bytes]] = []


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=server.serve_forever, daemon=True).start()
hook_url = f"http://127.0.0.1:{server.server_address[1]}/webhook"


def wait_delivery(event_id: str, timeout: float = 30) -> Tuple[Dict[str, str], bytes]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for h, b in deliveries:
            if h.get("webhook-id") == event_id:
                return h, b
        time.sleep(0.1)
    raise AssertionError(f"no delivery of {event_id}: {[h.get('webhook-id') for h, _ in deliveries]}")


# ---- meta, organisation, keys ----
assert client.meta.health().status == "ok"
assert client.meta.openapi()["openapi"].startswith("3.1")
org = client.organization.retrieve()
assert org.id.startswith("org_") and org.api_key.mode == "live"

key = client.api_keys.create(name="sdk e2e", mode="test")
assert key.key.startswith("pytake_test_")
assert key.id in [k.id for k in client.api_keys.list(limit=1)]  # follows cursors
assert client.api_keys.retrieve(key.id).name == "sdk e2e"
assert client.api_keys.revoke(key.id).revoked_at
try:
    pytake.PyTake(api_key=key.key).organization.retrieve()
    raise AssertionError("a revoked key worked")
except pytake.AuthenticationError as e:
    assert e.status_code == 401 and e.code == "api_key_revoked" and e.request_id

# ---- settings ----
s = client.settings.whatsapp.configure(
    phone_number_id=os.environ["WHATSAPP_PHONE_NUMBER_ID"],
    waba_id=os.environ["WHATSAPP_WABA_ID"],
    access_token=os.environ["WHATSAPP_ACCESS_TOKEN"],
    app_secret=os.environ["WHATSAPP_APP_SECRET"],
    verify_token=os.environ["WHATSAPP_VERIFY_TOKEN"],
)
assert s.healthy and os.environ["WHATSAPP_APP_SECRET"] not in json.dumps(s.to_dict())
assert client.settings.whatsapp.retrieve().phone_number_id == os.environ["WHATSAPP_PHONE_NUMBER_ID"]
assert client.settings.whatsapp.test().ok is True
# The default country: the WhatsApp number's, overridden, then back to it.
country = client.settings.phone.retrieve().whatsapp_number_country
p = client.settings.phone.update(default_country="br")
assert p.default_country == "BR" and p.default_country_source == "settings", p
p = client.settings.phone.update(default_country=None)
assert p.default_country_override is None and p.default_country == country, p

# ---- contacts ----
email = f"ana.{int(time.time())}@example.com"
ana = client.contacts.create(whatsapp_id="+55 11 97777-0001", name="Ana", email=email, tags=["new_lead"])
assert ana.whatsapp_id == "+5511977770001"
try:
    client.contacts.create(whatsapp_id="5511977770001")
    raise AssertionError("a duplicate contact was created")
except pytake.ConflictError as e:
    assert e.code == "contact_exists" and e.existing_id == ana.id
try:
    client.contacts.create(whatsapp_id="abc", email="nope")
    raise AssertionError("an invalid contact was created")
except pytake.ValidationError as e:
    assert {d.field for d in e.details} >= {"whatsapp_id", "email"}, e.details
assert [c.id for c in client.contacts.list(email=email.upper())] == [ana.id]
assert client.contacts.retrieve(ana.id).email == email
ana = client.contacts.update(ana.id, tags=["customer", "purchased"], attributes={"last_purchase": "2025-10-03", "total_spent": 150.0})
assert ana.attributes == {"last_purchase": "2025-10-03", "total_spent": 150.0}
assert client.contacts.add_tags(ana.id, ["vip"]).tags == ["customer", "purchased", "vip"]
assert client.contacts.remove_tag(ana.id, "vip").tags == ["customer", "purchased"]
oo = client.settings.opt_out.retrieve()
assert "PARAR" in oo.keywords, oo
oo = client.settings.opt_out.update(keywords=oo.keywords, confirmation=None)
assert oo.confirmation is None and not oo.default, oo
assert client.contacts.opt_in(ana.id).opted_in_at
camp = client.campaigns.create(
    name="sdk e2e",
    template={"name": "order_update", "language": {"code": "pt_BR"},
              "components": [{"type": "body", "parameters": [{"type": "text", "text": "{{contact.first_name}}"}, {"type": "text", "text": "x"}]}]},
    audience={"contact_ids": [ana.id]},
    send_at=(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
)
assert camp.status == "scheduled" and camp.counts.recipients == 1, camp
assert camp.id in [c.id for c in client.campaigns.list(limit=1)]
assert client.campaigns.retrieve(camp.id).name == "sdk e2e"
assert list(client.campaigns.list_recipients(camp.id, status="queued")) == []
assert client.campaigns.pause(camp.id).status == "paused"
assert client.campaigns.resume(camp.id).status == "scheduled"
assert client.campaigns.cancel(camp.id).status == "cancelled"
client.contacts.delete(ana.id)
try:
    client.contacts.retrieve(ana.id)
    raise AssertionError("a deleted contact was found")
except pytake.NotFoundError as e:
    assert e.status_code == 404

# ---- messages and conversations ----
customer = os.environ["SDK_CUSTOMER"]
idem = f"sdk-e2e-{time.time()}"
sent = client.messages.send(to=customer, text="Olá! Seu pedido foi enviado.", idempotency_key=idem)
# What the SDK's retries rely on: the same key again answers the same message.
assert client.messages.send(to=customer, text="Olá! Seu pedido foi enviado.", idempotency_key=idem).id == sent.id
msg = client.messages.retrieve(sent.id)
assert msg.direction == "outbound" and msg.conversation_id == sent.conversation_id
try:
    client.messages.send(to="+5531900000099", text="Olá!")
    raise AssertionError("a text outside the window was accepted")
except pytake.ValidationError as e:
    assert e.code == "outside_customer_service_window", e.code
# A scheduled message, cancelled before its time; cancelling it again is a conflict.
later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
scheduled = client.messages.send(to=customer, text="Lembrete: sua consulta é amanhã.", send_at=later)
assert scheduled.status == "scheduled", scheduled.status
assert client.messages.cancel(scheduled.id).status == "cancelled"
try:
    client.messages.cancel(scheduled.id)
    raise AssertionError("a cancelled message was cancelled again")
except pytake.ConflictError as e:
    assert e.code == "message_not_scheduled", e.code
convs = client.conversations.list(status="open", contact_id=sent.contact_id)
assert [c.id for c in convs] == [sent.conversation_id]
assert client.conversations.retrieve(sent.conversation_id).status == "open"
assert sent.id in [m.id for m in client.conversations.list_messages(sent.conversation_id, limit=1)]
assert client.conversations.update(sent.conversation_id, status="resolved", satisfaction=5).status == "resolved"
try:
    client.media.download("000000000000001")
    raise AssertionError("an unknown media id was found")
except pytake.NotFoundError:
    pass

# ---- chatbots ----
bot = client.chatbots.create(name="SDK bot", welcome_message="Oi!", active=False)
assert [b.id for b in client.chatbots.list() if b.id == bot.id] == [bot.id]
assert client.chatbots.retrieve(bot.id).active is False
bot = client.chatbots.update(
    bot.id,
    rules=[{"match": {"keywords": ["preço"]}, "reply": {"type": "text", "text": "R$ 99"}}],
    fallback={"type": "text", "text": "Não entendi."},
)
assert bot.rules[0].id == "r1" and bot.fallback is not None
assert client.chatbots.update(bot.id, fallback=None).fallback is None
client.chatbots.delete(bot.id)

# ---- webhooks, verified with pytake.webhooks ----
catalogue = client.webhooks.list_events()
assert "message.received" in [e.name for e in catalogue.data]
hook = client.webhooks.create(url=hook_url, events=["webhook.test", "contact.created"], name="sdk e2e")
assert hook.secret.startswith("whsec_")
assert hook.id in [w.id for w in client.webhooks.list()]
assert client.webhooks.retrieve(hook.id).url == hook_url
assert client.webhooks.update(hook.id, name="sdk e2e 2").name == "sdk e2e 2"
test = client.webhooks.test(hook.id)
headers, body = wait_delivery(test.event.id)
event = webhooks.construct_event(body, headers, hook.secret)
assert event.event == "webhook.test" and event.id == test.event.id
webhooks.verify(body, headers, hook.secret, scheme="pytake")
assert test.delivery.id in [d.id for d in client.webhooks.deliveries.list(hook.id)]
client.webhooks.deliveries.retry(hook.id, test.delivery.id)
rotation = client.webhooks.rotate_secret(hook.id)
test2 = client.webhooks.test(hook.id)
headers, body = wait_delivery(test2.event.id)
# During the rotation a receiver keeps both secrets. (The old one signs for
# 24 hours; the new one signs once the dispatcher's one-minute secret cache
# has expired, so it alone is not enough yet.)
for secrets in ([hook.secret], [rotation.secret, hook.secret]):
    webhooks.construct_event(body, headers, secrets)
try:
    webhooks.construct_event(body, headers, hook.secret, now=time.time() + 600)
    raise AssertionError("a stale delivery verified")
except webhooks.WebhookVerificationError:
    pass
client.webhooks.delete(hook.id)

# ---- integrations ----
run = str(int(time.time() * 1000))
shop = client.integrations.shopify.configure(shop_domain=f"sdk-{run}.myshopify.com", webhook_secret="shpss_sdk_e2e_secret")
assert shop.platform == "shopify"
assert client.integrations.shopify.retrieve().shop_domain == f"sdk-{run}.myshopify.com"
client.integrations.shopify.delete()
woo = client.integrations.woocommerce.configure(
    site_url=f"https://loja-{run}.example.com",
    webhook_secret="woo_sdk_e2e_secret",
    statuses={"completed": {"enabled": True, "message": {"type": "text", "text": "Pedido #{{number}} concluído!"}}},
)
assert woo.statuses is not None and woo.statuses["completed"].enabled
assert client.integrations.woocommerce.retrieve().platform == "woocommerce"
client.integrations.woocommerce.delete()
portal = str(int(run) % 10**12 + 10**12)  # HubSpot ids are digits; unique per run
hs = client.integrations.hubspot.configure(portal_id=portal, access_token="pat-na1-sdk-e2e-token", client_secret="sdk-e2e-client-secret")
assert hs.platform == "hubspot" and hs.portal_id == portal
assert "sdk-e2e" not in str(hs.to_dict()), "a HubSpot credential came back"
assert client.integrations.hubspot.retrieve().portal_id == portal
client.integrations.hubspot.delete()
sf = client.integrations.salesforce.configure(
    login_url=f"https://sdk-{run}.my.salesforce.com", client_id="sdk_e2e_client", client_secret="sdk-e2e-client-secret",
    lead={"company": "Desconhecida"},
)
assert sf.platform == "salesforce" and sf.login_url == f"https://sdk-{run}.my.salesforce.com"
assert "sdk-e2e-client-secret" not in str(sf.to_dict()), "a Salesforce secret came back"
assert client.integrations.salesforce.retrieve().client_id == "sdk_e2e_client"
client.integrations.salesforce.delete()

# ---- Zapier hooks ----
zap = client.hooks.subscribe(url=hook_url, event="contact.created")
assert isinstance(client.hooks.samples("contact.created"), list)
client.hooks.unsubscribe(zap.id)


# ---- media and read receipts ----
up = client.media.upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, mime_type="image/png", filename="nota.png")
assert up.type == "image" and up.id, up
try:
    client.messages.mark_read(sent.id, typing=True)
    raise AssertionError("one of our own messages was marked read")
except pytake.ValidationError as e:
    assert e.status_code == 422
inbound = [m for m in client.conversations.list_messages(sent.conversation_id, limit=100) if m.direction == "inbound"]
assert inbound, "the customer's message"
assert client.messages.mark_read(inbound[0].id, typing=True).typing is True

# ---- templates (last: once synced, template sends and shop settings are checked) ----
tpl = client.templates.create(
    name=f"sdk_{run}",
    language="pt_BR",
    category="UTILITY",
    components=[{"type": "BODY", "text": "Olá! Seu pedido {{1}} foi confirmado.", "example": {"body_text": [["1001"]]}}],
)
assert tpl.status == "PENDING" and tpl.id, tpl
try:
    client.templates.create(name="Bad Name", language="pt_BR", category="UTILITY", components=[{"type": "BODY", "text": "x"}])
    raise AssertionError("a template breaking Meta's rules was sent to Meta")
except pytake.ValidationError as e:
    assert "name" in {d.field for d in e.details}, e.details
assert client.templates.sync().count >= 1
assert [t.id for t in client.templates.list(name=tpl.name)] == [tpl.id]
assert client.templates.retrieve(tpl.name).data[0].language == "pt_BR"
try:
    client.messages.send(to=customer, type="template", template={"name": tpl.name, "language": {"code": "pt_BR"}})
    raise AssertionError("a template send without its parameter was accepted")
except pytake.ValidationError as e:
    assert e.code in ("template_parameter_mismatch", "template_not_approved"), e.code
client.templates.delete(tpl.name)


# ---- the async client ----
async def run_async() -> None:
    async with pytake.AsyncPyTake() as aclient:
        assert (await aclient.meta.health()).status == "ok"
        ids = [c.id async for c in aclient.contacts.list(limit=1)]
        assert sent.contact_id in ids, ids


asyncio.run(run_async())

# Every operation of the document was called.
operations = {op["operationId"] for item in client.meta.openapi()["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op}
missing = operations - called
assert not missing, f"operations not called: {sorted(missing)}"
client.close()
print("ok", len(called), "operations")
