"""The SDK against the OpenAPI document: every operation has a method, each
method sends the documented method and path, its arguments cover the
documented body and query members, and its model reads a documented answer."""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import Any, Callable, Dict, List, Tuple

import httpx
import pytest

import pytake
from pytake._core import AsyncPager, Pager

from .conftest import Recorder, openapi

DOC = openapi()
SCHEMAS = DOC["components"]["schemas"]


def operations() -> Dict[str, Tuple[str, str, Dict[str, Any]]]:
    out = {}
    for p, item in DOC["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out[op["operationId"]] = (method.upper(), p, op)
    return out


OPS = operations()
SYNC = pytake.PyTake(api_key="pytake_live_x", base_url="https://x/v1")


def sdk_methods(root: Any) -> Dict[str, Tuple[str, Callable[..., Any]]]:
    """operationId -> (dotted name, bound method), found by walking the client."""
    found: Dict[str, Tuple[str, Callable[..., Any]]] = {}

    def walk(obj: Any, prefix: str, depth: int) -> None:
        if depth > 3:
            return
        for name in dir(obj):
            if name.startswith("_"):
                continue
            attr = getattr(obj, name)
            op = getattr(attr, "__pytake_operation__", None)
            if op:
                assert op not in found, f"{op} implemented twice: {found[op][0]} and {prefix}{name}"
                found[op] = (prefix + name, attr)
            elif type(attr).__module__.startswith("pytake._"):
                walk(attr, prefix + name + ".", depth + 1)

    walk(root, "client.", 0)
    return found


def resolve(s: Dict[str, Any]) -> Dict[str, Any]:
    while "$ref" in s:
        s = SCHEMAS[s["$ref"].rsplit("/", 1)[1]]
    return s


def example(s: Dict[str, Any]) -> Any:
    """A minimal instance of a response schema: required members only."""
    s = resolve(s)
    if "allOf" in s:
        out: Dict[str, Any] = {}
        for part in s["allOf"]:
            out.update(example(part))
        return out
    for key in ("oneOf", "anyOf"):
        if key in s and "type" not in s:
            return example(next(a for a in s[key] if a.get("type") != "null"))
    t = s.get("type")
    if isinstance(t, list):
        t = next(x for x in t if x != "null")
    if "const" in s:
        return s["const"]
    if t == "object" or "properties" in s:
        return {k: example(v) for k, v in s.get("properties", {}).items() if k in s.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": []}.get(t or "", None)


# Arguments for each operation: (positional path values, keyword arguments).
ARGS: Dict[str, Tuple[List[Any], Dict[str, Any]]] = {
    "getHealth": ([], {}),
    "getOpenAPI": ([], {}),
    "getOrganization": ([], {}),
    "createAPIKey": ([], {"name": "ci", "mode": "test"}),
    "listAPIKeys": ([], {"limit": 5}),
    "getAPIKey": (["key_1"], {}),
    "revokeAPIKey": (["key_1"], {}),
    "sendMessage": ([], {"to": "+5511999999999", "text": "Olá!", "send_at": "2026-12-24T09:00:00-03:00"}),
    "cancelMessage": (["msg_1"], {}),
    "getMessage": (["msg_1"], {}),
    "listConversations": ([], {"status": "open", "contact_id": "ct_1", "limit": 5}),
    "getConversation": (["cv_1"], {}),
    "updateConversation": (["cv_1"], {"status": "resolved", "satisfaction": 5}),
    "listConversationMessages": (["cv_1"], {"limit": 5}),
    "getMedia": (["media 1"], {}),
    "getWhatsAppSettings": ([], {}),
    "putWhatsAppSettings": ([], {"phone_number_id": "1", "access_token": "a", "app_secret": "s", "verify_token": "v"}),
    "testWhatsAppSettings": ([], {}),
    "getPhoneSettings": ([], {}),
    "putPhoneSettings": ([], {"default_country": "BR"}),
    "getOptOutSettings": ([], {}),
    "putOptOutSettings": ([], {"keywords": ["STOP", "PARAR"], "confirmation": "Ok!"}),
    "listWebhookEvents": ([], {}),
    "createWebhook": ([], {"url": "https://example.com/h", "events": ["message.received"]}),
    "listWebhooks": ([], {}),
    "getWebhook": (["wh_1"], {}),
    "updateWebhook": (["wh_1"], {"active": True}),
    "deleteWebhook": (["wh_1"], {}),
    "rotateWebhookSecret": (["wh_1"], {}),
    "testWebhook": (["wh_1"], {}),
    "listWebhookDeliveries": (["wh_1"], {"limit": 5}),
    "retryWebhookDelivery": (["wh_1", "dl_1"], {}),
    "createContact": ([], {"whatsapp_id": "+5511999999999", "name": "Maria", "tags": ["vip"]}),
    "listContacts": ([], {"tag": "vip", "limit": 100}),
    "getContact": (["ct_1"], {}),
    "updateContact": (["ct_1"], {"attributes": {"plan": None}}),
    "deleteContact": (["ct_1"], {}),
    "addContactTags": (["ct_1", ["vip"]], {}),
    "removeContactTag": (["ct_1", "vip/gold"], {}),
    "optInContact": (["ct_1"], {}),
    "createCampaign": (
        [],
        {
            "name": "VIP",
            "template": {"name": "promo", "language": {"code": "pt_BR"}},
            "audience": {"tags": ["vip"]},
            "send_at": "2026-12-01T12:00:00Z",
        },
    ),
    "listCampaigns": ([], {"limit": 5}),
    "getCampaign": (["cmp_1"], {}),
    "listCampaignRecipients": (["cmp_1"], {"status": "queued", "limit": 5}),
    "pauseCampaign": (["cmp_1"], {}),
    "resumeCampaign": (["cmp_1"], {}),
    "cancelCampaign": (["cmp_1"], {}),
    "createChatbot": ([], {"name": "Atendimento", "welcome_message": "Olá! Como posso ajudar?"}),
    "listChatbots": ([], {"limit": 5}),
    "getChatbot": (["cb_1"], {}),
    "updateChatbot": (["cb_1"], {"fallback": None}),
    "deleteChatbot": (["cb_1"], {}),
    "putShopifyIntegration": ([], {"shop_domain": "loja.myshopify.com", "webhook_secret": "s"}),
    "getShopifyIntegration": ([], {}),
    "deleteShopifyIntegration": ([], {}),
    "putHubSpotIntegration": ([], {"portal_id": "62515", "access_token": "pat-na1-x", "client_secret": "s"}),
    "getHubSpotIntegration": ([], {}),
    "deleteHubSpotIntegration": ([], {}),
    "putSalesforceIntegration": ([], {"login_url": "https://acme.my.salesforce.com", "client_id": "k", "client_secret": "s"}),
    "getSalesforceIntegration": ([], {}),
    "deleteSalesforceIntegration": ([], {}),
    "putWooCommerceIntegration": ([], {"site_url": "https://loja.example.com", "webhook_secret": "s"}),
    "getWooCommerceIntegration": ([], {}),
    "deleteWooCommerceIntegration": ([], {}),
    "subscribeZapierHook": ([], {"url": "https://hooks.zapier.com/x", "event": "message.received"}),
    "unsubscribeZapierHook": (["hk_1"], {}),
    "listZapierHookSamples": (["message.received"], {}),
    "markMessageRead": (["msg_1"], {"typing": True}),
    "uploadMedia": ([b"\x89PNG\r\n\x1a\n"], {"mime_type": "image/png", "filename": "a.png"}),
    "listTemplates": ([], {"name": "order_confirmation", "status": "APPROVED", "limit": 5}),
    "getTemplate": (["order_confirmation"], {}),
    "createTemplate": (
        [],
        {
            "name": "order_confirmation",
            "language": "pt_BR",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Pedido {{1}} ok.", "example": {"body_text": [["1"]]}}],
        },
    ),
    "deleteTemplate": (["order_confirmation"], {"language": "pt_BR"}),
    "syncTemplates": ([], {}),
}


def success(op: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
    for code, r in op["responses"].items():
        if code.startswith("2"):
            if "$ref" in r:
                r = DOC["components"]["responses"][r["$ref"].rsplit("/", 1)[1]]
            return int(code), r
    raise AssertionError("no 2xx response")


def answer(op: Dict[str, Any]) -> httpx.Response:
    code, r = success(op)
    content = r.get("content", {})
    if "application/json" in content:
        body = example(content["application/json"]["schema"])
        if isinstance(body, dict) and "data" in body and "next_cursor" in body:
            body["next_cursor"] = ""
        return httpx.Response(code, json=body)
    if content:
        return httpx.Response(code, content=b"\x89PNG", headers={"Content-Type": "image/png"})
    return httpx.Response(code)


def test_every_operation_has_a_method() -> None:
    methods = SYNC_METHODS
    missing = sorted(set(OPS) - set(methods))
    assert not missing, f"operations of internal/api/openapi.json with no SDK method: {missing}"
    unknown = sorted(set(methods) - set(OPS))
    assert not unknown, f"SDK methods for operations the document does not have: {unknown}"
    assert sorted(ARGS) == sorted(OPS), "tests/test_operations.py ARGS must cover every operation"


def test_async_client_has_the_same_methods() -> None:
    sync = SYNC_METHODS
    asyn = sdk_methods(pytake.AsyncPyTake(api_key="pytake_live_x", base_url="https://x/v1"))
    assert {k: v[0] for k, v in sync.items()} == {k: v[0] for k, v in asyn.items()}


SYNC_METHODS = sdk_methods(SYNC)


def expected_path(template: str, args: List[Any]) -> str:
    values = iter(a for a in args if isinstance(a, str))
    from urllib.parse import quote

    return re.sub(r"\{[^}]+\}", lambda m: quote(next(values), safe=""), template)


@pytest.mark.parametrize("operation_id", sorted(OPS))
def test_method_sends_the_documented_request(operation_id: str, client: pytake.PyTake, rec: Recorder) -> None:
    method, template, op = OPS[operation_id]
    _, fn = sdk_methods(client)[operation_id]
    args, kwargs = ARGS[operation_id]
    rec.queue.append(answer(op))
    result = fn(*args, **kwargs)
    assert len(rec.requests) == 1
    req = rec.requests[0]
    assert req.method == method
    assert req.url.raw_path.decode().split("?")[0] == expected_path(template, args)
    # Arguments are the documented members.
    documented_query = {p["name"] if "name" in p else resolve_param(p)["name"] for p in op.get("parameters", [])}
    documented_query = {n for n in documented_query if n not in ("Idempotency-Key",)}
    assert set(req.url.params.keys()) <= documented_query
    if "requestBody" in op and "application/json" in op["requestBody"]["content"]:
        schema = resolve(op["requestBody"]["content"]["application/json"]["schema"])
        sent = rec.json()
        assert set(sent) <= set(schema["properties"]) | {"hookUrl"}, f"{operation_id} sent undocumented members"
    elif "requestBody" in op:
        # A raw body (an upload): the bytes, with a documented Content-Type.
        assert req.content == args[0]
        assert req.headers["content-type"] in op["requestBody"]["content"]
    else:
        assert req.content == b""
    assert req.headers["authorization"] == "Bearer pytake_live_test"
    # The answer is read into the documented model.
    if isinstance(result, Pager):
        assert isinstance(result.data, list)
    code, r = success(op)
    if code == 204:
        assert result is None


def resolve_param(p: Dict[str, Any]) -> Dict[str, Any]:
    param: Dict[str, Any] = DOC["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
    return param


@pytest.mark.parametrize("operation_id", sorted(OPS))
def test_keyword_arguments_cover_the_documented_members(operation_id: str) -> None:
    """Each body member and query parameter has a keyword (hookUrl is url;
    members documented as null are refused by the API, not sent)."""
    _, fn = SYNC_METHODS[operation_id]
    params = set(inspect.signature(fn).parameters)
    _, _, op = OPS[operation_id]
    wanted = set()
    for p in op.get("parameters", []):
        p = resolve_param(p) if "$ref" in p else p
        if p["in"] == "query" and p["name"] != "cursor":
            wanted.add(p["name"])
        if p["in"] == "header":
            wanted.add(p["name"].lower().replace("-", "_"))
    if "requestBody" in op and "application/json" in op["requestBody"]["content"]:
        schema = resolve(op["requestBody"]["content"]["application/json"]["schema"])
        for name, s in schema["properties"].items():
            if s.get("type") != "null":
                wanted.add(name)
    aliases = {"hookUrl": "url", "target_url": "url"}
    wanted = {aliases.get(w, w) for w in wanted}
    if operation_id == "addContactTags":
        wanted = {"tags"}
    missing = wanted - params
    assert not missing, f"{operation_id}: no keyword for {sorted(missing)}"


def test_async_methods_send_the_same_requests(rec: Recorder, aclient: pytake.AsyncPyTake) -> None:
    methods = sdk_methods(aclient)

    async def run() -> None:
        for operation_id in sorted(OPS):
            method, template, op = OPS[operation_id]
            args, kwargs = ARGS[operation_id]
            rec.queue.append(answer(op))
            result = methods[operation_id][1](*args, **kwargs)
            if isinstance(result, AsyncPager):
                await result
            else:
                await result
            req = rec.requests[-1]
            assert (req.method, req.url.raw_path.decode().split("?")[0]) == (method, expected_path(template, args)), operation_id
        await aclient.close()

    asyncio.run(run())
    assert len(rec.requests) == len(OPS)
