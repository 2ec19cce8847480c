"""Typed models of PyTake's API, generated from its OpenAPI document by
scripts/generate_types.py: do not edit by hand.

Responses are dataclasses (``Contact.from_dict(...)``; ``to_dict()`` gives the
JSON as received, members this SDK does not know included); request bodies
are TypedDicts checked by mypy."""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, TypedDict, Union

if sys.version_info >= (3, 11):
    from typing import Required
else:  # pragma: no cover
    from typing_extensions import Required


@dataclass(kw_only=True)
class Model:
    """Base of every response model."""

    _raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object as the API answered it."""
        return copy.deepcopy(self._raw)


@dataclass(kw_only=True)
class Health(Model):
    """Health (see the OpenAPI document)."""

    status: str
    time: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Health:
        return cls(
            status=d["status"],
            time=d["time"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class OrganizationApiKey(Model):
    """The key that authenticated this request."""

    id: str
    mode: str
    prefix: str
    last4: str
    scopes: List[str]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OrganizationApiKey:
        return cls(
            id=d["id"],
            mode=d["mode"],
            prefix=d["prefix"],
            last4=d["last4"],
            scopes=list(d["scopes"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Organization(Model):
    """Organization (see the OpenAPI document)."""

    id: str
    name: str
    created_at: str
    api_key: OrganizationApiKey

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Organization:
        return cls(
            id=d["id"],
            name=d["name"],
            created_at=d["created_at"],
            api_key=OrganizationApiKey.from_dict(d["api_key"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class APIKey(Model):
    """An API key as listed: its prefix and last four characters, never the secret or its hash."""

    id: str
    name: str
    mode: str
    prefix: str
    last4: str
    created_at: str
    last_used_at: Optional[str] = None
    revoked_at: Optional[str] = None
    scopes: List[str]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> APIKey:
        return cls(
            id=d["id"],
            name=d["name"],
            mode=d["mode"],
            prefix=d["prefix"],
            last4=d["last4"],
            created_at=d["created_at"],
            last_used_at=d.get("last_used_at"),
            revoked_at=d.get("revoked_at"),
            scopes=list(d["scopes"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class NewAPIKey(APIKey):
    """A freshly issued key: its description plus the plaintext `key`, shown this once and never again."""

    key: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NewAPIKey:
        b = APIKey.from_dict(d)
        return cls(
            id=b.id,
            name=b.name,
            mode=b.mode,
            prefix=b.prefix,
            last4=b.last4,
            created_at=b.created_at,
            last_used_at=b.last_used_at,
            revoked_at=b.revoked_at,
            scopes=b.scopes,
            key=d["key"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class APIKeyPage(Model):
    """APIKeyPage (see the OpenAPI document)."""

    data: List[APIKey]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> APIKeyPage:
        return cls(
            data=[APIKey.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class MessageError(Model):
    """Meta's error for a failed message."""

    code: int
    title: Optional[str] = None
    message: Optional[str] = None
    details: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MessageError:
        return cls(
            code=d["code"],
            title=d.get("title"),
            message=d.get("message"),
            details=d.get("details"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class StatusEntry(Model):
    """One status as Meta reported it."""

    status: str
    timestamp: str
    received_at: str
    errors: Optional[Any] = None
    pricing: Optional[Any] = None
    test: Optional[bool] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StatusEntry:
        return cls(
            status=d["status"],
            timestamp=d["timestamp"],
            received_at=d["received_at"],
            errors=d.get("errors"),
            pricing=d.get("pricing"),
            test=d.get("test"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Message(Model):
    """A WhatsApp message, inbound or outbound."""

    id: str
    conversation_id: str
    contact_id: str
    direction: str
    wamid: Optional[str] = None
    type: str
    content: Any
    raw: Optional[Any] = None
    status: str
    context_wamid: Optional[str] = None
    timestamp: str
    created_at: str
    sent_at: Optional[str] = None
    delivered_at: Optional[str] = None
    read_at: Optional[str] = None
    failed_at: Optional[str] = None
    error: Optional[MessageError] = None
    pricing_category: Optional[str] = None
    billable: Optional[bool] = None
    timeline: Optional[List[StatusEntry]] = None
    to: Optional[str] = None
    attempts: Optional[int] = None
    accepted_at: Optional[str] = None
    last_error: Optional[str] = None
    test: Optional[bool] = None
    send_at: Optional[str] = None
    cancelled_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Message:
        return cls(
            id=d["id"],
            conversation_id=d["conversation_id"],
            contact_id=d["contact_id"],
            direction=d["direction"],
            wamid=d.get("wamid"),
            type=d["type"],
            content=d["content"],
            raw=d.get("raw"),
            status=d["status"],
            context_wamid=d.get("context_wamid"),
            timestamp=d["timestamp"],
            created_at=d["created_at"],
            sent_at=d.get("sent_at"),
            delivered_at=d.get("delivered_at"),
            read_at=d.get("read_at"),
            failed_at=d.get("failed_at"),
            error=MessageError.from_dict(d["error"]) if d.get("error") is not None else None,
            pricing_category=d.get("pricing_category"),
            billable=d.get("billable"),
            timeline=[StatusEntry.from_dict(x) for x in d["timeline"]] if d.get("timeline") is not None else None,
            to=d.get("to"),
            attempts=d.get("attempts"),
            accepted_at=d.get("accepted_at"),
            last_error=d.get("last_error"),
            test=d.get("test"),
            send_at=d.get("send_at"),
            cancelled_at=d.get("cancelled_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class MessagePage(Model):
    """MessagePage (see the OpenAPI document)."""

    data: List[Message]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MessagePage:
        return cls(
            data=[Message.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class SendResult(Model):
    """A message accepted for sending."""

    id: str
    status: str
    to: str
    type: str
    contact_id: str
    conversation_id: str
    created_at: str
    send_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SendResult:
        return cls(
            id=d["id"],
            status=d["status"],
            to=d["to"],
            type=d["type"],
            contact_id=d["contact_id"],
            conversation_id=d["conversation_id"],
            created_at=d["created_at"],
            send_at=d.get("send_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Contact(Model):
    """A contact as the API and events show it."""

    id: str
    name: str
    whatsapp_id: Optional[str] = None
    user_id: Optional[str] = None
    email: Optional[str] = None
    tags: List[str]
    attributes: Dict[str, Any]
    created_at: str
    opted_out: Optional[bool] = None
    opt_out: Optional[OptOut] = None
    opted_in_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Contact:
        return cls(
            id=d["id"],
            name=d["name"],
            whatsapp_id=d.get("whatsapp_id"),
            user_id=d.get("user_id"),
            email=d.get("email"),
            tags=list(d["tags"]),
            attributes=dict(d["attributes"]),
            created_at=d["created_at"],
            opted_out=d.get("opted_out"),
            opt_out=OptOut.from_dict(d["opt_out"]) if d.get("opt_out") is not None else None,
            opted_in_at=d.get("opted_in_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ContactPage(Model):
    """ContactPage (see the OpenAPI document)."""

    data: List[Contact]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ContactPage:
        return cls(
            data=[Contact.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Conversation(Model):
    """Conversation (see the OpenAPI document)."""

    id: str
    contact_id: str
    status: str
    message_count: int
    last_inbound_at: Optional[str] = None
    last_message_at: Optional[str] = None
    created_at: str
    updated_at: str
    resolved_at: Optional[str] = None
    satisfaction: Optional[int] = None
    assignee: Optional[str] = None
    handoff: bool
    handoff_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Conversation:
        return cls(
            id=d["id"],
            contact_id=d["contact_id"],
            status=d["status"],
            message_count=d["message_count"],
            last_inbound_at=d.get("last_inbound_at"),
            last_message_at=d.get("last_message_at"),
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            resolved_at=d.get("resolved_at"),
            satisfaction=d.get("satisfaction"),
            assignee=d.get("assignee"),
            handoff=d["handoff"],
            handoff_at=d.get("handoff_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ConversationPage(Model):
    """ConversationPage (see the OpenAPI document)."""

    data: List[Conversation]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConversationPage:
        return cls(
            data=[Conversation.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class WhatsAppSettingsSignals(Model):
    """What Meta's account webhooks last said (phone_number_quality_update, account_update); empty until one arrives. The quality follows the FLAGGED (RED) and UNFLAGGED (GREEN) events; POST /v1/settings/whatsapp/test asks Meta for the exact rating."""

    quality_rating: Optional[str] = None
    quality_event: Optional[str] = None
    messaging_limit_tier: Optional[str] = None
    throughput_level: Optional[str] = None
    account_event: Optional[str] = None
    updated_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WhatsAppSettingsSignals:
        return cls(
            quality_rating=d.get("quality_rating"),
            quality_event=d.get("quality_event"),
            messaging_limit_tier=d.get("messaging_limit_tier"),
            throughput_level=d.get("throughput_level"),
            account_event=d.get("account_event"),
            updated_at=d.get("updated_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class WhatsAppSettings(Model):
    """The WhatsApp connection as the API shows it: secrets never, the access token only as a hint (its last four characters)."""

    phone_number_id: str
    waba_id: Optional[str] = None
    graph_api_version: str
    access_token: str
    app_secret: str
    verify_token: str
    healthy: bool
    unhealthy_reason: Optional[str] = None
    unhealthy_since: Optional[str] = None
    updated_at: str
    signals: WhatsAppSettingsSignals

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WhatsAppSettings:
        return cls(
            phone_number_id=d["phone_number_id"],
            waba_id=d.get("waba_id"),
            graph_api_version=d["graph_api_version"],
            access_token=d["access_token"],
            app_secret=d["app_secret"],
            verify_token=d["verify_token"],
            healthy=d["healthy"],
            unhealthy_reason=d.get("unhealthy_reason"),
            unhealthy_since=d.get("unhealthy_since"),
            updated_at=d["updated_at"],
            signals=WhatsAppSettingsSignals.from_dict(d["signals"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class WhatsAppTestResultError(Model):
    """Meta's error as received (code 190 also marks the connection unhealthy)."""

    code: int
    subcode: int
    type: str
    message: str
    details: str
    http_status: int
    fbtrace_id: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WhatsAppTestResultError:
        return cls(
            code=d["code"],
            subcode=d["subcode"],
            type=d["type"],
            message=d["message"],
            details=d["details"],
            http_status=d["http_status"],
            fbtrace_id=d["fbtrace_id"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class WhatsAppTestResult(Model):
    """What Meta answered: the number's details, or Meta's error (still a 200)."""

    ok: bool
    phone_number_id: str
    display_phone_number: Optional[str] = None
    verified_name: Optional[str] = None
    quality_rating: Optional[str] = None
    error: Optional[WhatsAppTestResultError] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WhatsAppTestResult:
        return cls(
            ok=d["ok"],
            phone_number_id=d["phone_number_id"],
            display_phone_number=d.get("display_phone_number"),
            verified_name=d.get("verified_name"),
            quality_rating=d.get("quality_rating"),
            error=WhatsAppTestResultError.from_dict(d["error"]) if d.get("error") is not None else None,
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class PhoneSettings(Model):
    """PhoneSettings (see the OpenAPI document)."""

    default_country: Optional[str] = None
    default_country_source: Optional[str] = None
    default_country_override: Optional[str] = None
    whatsapp_number_country: Optional[str] = None
    whatsapp_display_phone_number: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PhoneSettings:
        return cls(
            default_country=d.get("default_country"),
            default_country_source=d.get("default_country_source"),
            default_country_override=d.get("default_country_override"),
            whatsapp_number_country=d.get("whatsapp_number_country"),
            whatsapp_display_phone_number=d.get("whatsapp_display_phone_number"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Event(Model):
    """An event exactly as webhook receivers get it. `id` is stable: the same on every retry and re-publication."""

    id: str
    event: str
    timestamp: str
    organization_id: str
    data: Dict[str, Any]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Event:
        return cls(
            id=d["id"],
            event=d["event"],
            timestamp=d["timestamp"],
            organization_id=d["organization_id"],
            data=dict(d["data"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class EventKind(Model):
    """EventKind (see the OpenAPI document)."""

    name: str
    description: str
    sample: Event

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EventKind:
        return cls(
            name=d["name"],
            description=d["description"],
            sample=Event.from_dict(d["sample"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class EventCatalogue(Model):
    """EventCatalogue (see the OpenAPI document)."""

    data: List[EventKind]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EventCatalogue:
        return cls(
            data=[EventKind.from_dict(x) for x in d["data"]],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Webhook(Model):
    """A webhook subscription. The signing secret is never shown again after creation or rotation."""

    id: str
    name: str
    url: str
    events: List[str]
    active: bool
    disabled_reason: Optional[str] = None
    failing_since: Optional[str] = None
    created_at: str
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Webhook:
        return cls(
            id=d["id"],
            name=d["name"],
            url=d["url"],
            events=list(d["events"]),
            active=d["active"],
            disabled_reason=d.get("disabled_reason"),
            failing_since=d.get("failing_since"),
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class NewWebhook(Webhook):
    """A new subscription with its signing secret, shown this once."""

    secret: str
    webhook_signature_key: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NewWebhook:
        b = Webhook.from_dict(d)
        return cls(
            id=b.id,
            name=b.name,
            url=b.url,
            events=b.events,
            active=b.active,
            disabled_reason=b.disabled_reason,
            failing_since=b.failing_since,
            created_at=b.created_at,
            updated_at=b.updated_at,
            secret=d["secret"],
            webhook_signature_key=d["webhook_signature_key"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class WebhookPage(Model):
    """Every subscription of the organisation (at most 50) in one page: `next_cursor` is always empty."""

    data: List[Webhook]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WebhookPage:
        return cls(
            data=[Webhook.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class SecretRotation(Model):
    """SecretRotation (see the OpenAPI document)."""

    id: str
    secret: str
    previous_secrets_expire_at: str
    x_pytake_signature_switches_at: str
    webhook_signature_key: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SecretRotation:
        return cls(
            id=d["id"],
            secret=d["secret"],
            previous_secrets_expire_at=d["previous_secrets_expire_at"],
            x_pytake_signature_switches_at=d["x_pytake_signature_switches_at"],
            webhook_signature_key=d["webhook_signature_key"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class DeliveryAttempt(Model):
    """DeliveryAttempt (see the OpenAPI document)."""

    at: str
    status_code: Optional[int] = None
    latency_ms: int
    error: Optional[str] = None
    response: Optional[str] = None
    next_attempt_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeliveryAttempt:
        return cls(
            at=d["at"],
            status_code=d.get("status_code"),
            latency_ms=d["latency_ms"],
            error=d.get("error"),
            response=d.get("response"),
            next_attempt_at=d.get("next_attempt_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Delivery(Model):
    """One event's delivery to one subscription (kept 30 days)."""

    id: str
    webhook_id: str
    event_id: str
    event: str
    status: str
    attempts: List[DeliveryAttempt]
    next_attempt_at: Optional[str] = None
    created_at: str
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Delivery:
        return cls(
            id=d["id"],
            webhook_id=d["webhook_id"],
            event_id=d["event_id"],
            event=d["event"],
            status=d["status"],
            attempts=[DeliveryAttempt.from_dict(x) for x in d["attempts"]],
            next_attempt_at=d.get("next_attempt_at"),
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class DeliveryPage(Model):
    """DeliveryPage (see the OpenAPI document)."""

    data: List[Delivery]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeliveryPage:
        return cls(
            data=[Delivery.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class WebhookTestResult(Model):
    """WebhookTestResult (see the OpenAPI document)."""

    delivery: Delivery
    event: Event

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WebhookTestResult:
        return cls(
            delivery=Delivery.from_dict(d["delivery"]),
            event=Event.from_dict(d["event"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ZapierHook(Model):
    """ZapierHook (see the OpenAPI document)."""

    id: str
    event: str
    url: str
    created_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ZapierHook:
        return cls(
            id=d["id"],
            event=d["event"],
            url=d["url"],
            created_at=d["created_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ChatbotButton(Model):
    """ChatbotButton (see the OpenAPI document)."""

    id: str
    title: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatbotButton:
        return cls(
            id=d["id"],
            title=d["title"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ChatbotReply(Model):
    """A message the bot sends: text, text with up to three reply buttons, or an approved template (in POST /v1/messages' canonical form)."""

    type: str
    text: Optional[str] = None
    buttons: Optional[List[ChatbotButton]] = None
    template: Optional[Dict[str, Any]] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatbotReply:
        return cls(
            type=d["type"],
            text=d.get("text"),
            buttons=[ChatbotButton.from_dict(x) for x in d["buttons"]] if d.get("buttons") is not None else None,
            template=dict(d["template"]) if d.get("template") is not None else None,
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ChatbotRuleMatch(Model):
    """Exactly one of keywords, reply_id or any."""

    keywords: Optional[List[str]] = None
    reply_id: Optional[str] = None
    any: Optional[bool] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatbotRuleMatch:
        return cls(
            keywords=list(d["keywords"]) if d.get("keywords") is not None else None,
            reply_id=d.get("reply_id"),
            any=d.get("any"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ChatbotRule(Model):
    """ChatbotRule (see the OpenAPI document)."""

    id: str
    match: ChatbotRuleMatch
    reply: Optional[ChatbotReply] = None
    handoff: bool

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatbotRule:
        return cls(
            id=d["id"],
            match=ChatbotRuleMatch.from_dict(d["match"]),
            reply=ChatbotReply.from_dict(d["reply"]) if d.get("reply") is not None else None,
            handoff=d["handoff"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Chatbot(Model):
    """A keyword chatbot: an ordered list of rules, a welcome message for new conversations and a fallback."""

    id: str
    name: str
    welcome_message: str
    active: bool
    rules: List[ChatbotRule]
    fallback: Optional[ChatbotReply] = None
    created_at: str
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Chatbot:
        return cls(
            id=d["id"],
            name=d["name"],
            welcome_message=d["welcome_message"],
            active=d["active"],
            rules=[ChatbotRule.from_dict(x) for x in d["rules"]],
            fallback=ChatbotReply.from_dict(d["fallback"]) if d.get("fallback") is not None else None,
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ChatbotPage(Model):
    """ChatbotPage (see the OpenAPI document)."""

    data: List[Chatbot]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatbotPage:
        return cls(
            data=[Chatbot.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class IntegrationMessageTemplateLanguage(Model):
    """IntegrationMessageTemplateLanguage (see the OpenAPI document)."""

    code: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntegrationMessageTemplateLanguage:
        return cls(
            code=d["code"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class IntegrationMessageTemplate(Model):
    """IntegrationMessageTemplate (see the OpenAPI document)."""

    name: str
    language: IntegrationMessageTemplateLanguage
    parameters: List[str]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntegrationMessageTemplate:
        return cls(
            name=d["name"],
            language=IntegrationMessageTemplateLanguage.from_dict(d["language"]),
            parameters=list(d["parameters"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class IntegrationMessage(Model):
    """IntegrationMessage (see the OpenAPI document)."""

    type: str
    template: Optional[IntegrationMessageTemplate] = None
    text: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntegrationMessage:
        return cls(
            type=d["type"],
            template=IntegrationMessageTemplate.from_dict(d["template"]) if d.get("template") is not None else None,
            text=d.get("text"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class IntegrationTrigger(Model):
    """IntegrationTrigger (see the OpenAPI document)."""

    enabled: bool
    message: Optional[IntegrationMessage] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntegrationTrigger:
        return cls(
            enabled=d["enabled"],
            message=IntegrationMessage.from_dict(d["message"]) if d.get("message") is not None else None,
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class IntegrationContactOptionsAttributes(Model):
    """IntegrationContactOptionsAttributes (see the OpenAPI document)."""

    last_purchase: bool
    total_spent: bool

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntegrationContactOptionsAttributes:
        return cls(
            last_purchase=d["last_purchase"],
            total_spent=d["total_spent"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class IntegrationContactOptions(Model):
    """IntegrationContactOptions (see the OpenAPI document)."""

    tags: List[str]
    attributes: IntegrationContactOptionsAttributes

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntegrationContactOptions:
        return cls(
            tags=list(d["tags"]),
            attributes=IntegrationContactOptionsAttributes.from_dict(d["attributes"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Integration(Model):
    """An e-commerce integration's settings: the webhook secret is masked, never returned."""

    platform: str
    shop_domain: Optional[str] = None
    site_url: Optional[str] = None
    webhook_url: Optional[str] = None
    webhook_secret: str
    previous_webhook_secret_expires_at: Optional[str] = None
    topics: Optional[Dict[str, IntegrationTrigger]] = None
    statuses: Optional[Dict[str, IntegrationTrigger]] = None
    contact: IntegrationContactOptions
    created_at: str
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Integration:
        return cls(
            platform=d["platform"],
            shop_domain=d.get("shop_domain"),
            site_url=d.get("site_url"),
            webhook_url=d.get("webhook_url"),
            webhook_secret=d["webhook_secret"],
            previous_webhook_secret_expires_at=d.get("previous_webhook_secret_expires_at"),
            topics={k: IntegrationTrigger.from_dict(x) for k, x in d["topics"].items()} if d.get("topics") is not None else None,
            statuses={k: IntegrationTrigger.from_dict(x) for k, x in d["statuses"].items()} if d.get("statuses") is not None else None,
            contact=IntegrationContactOptions.from_dict(d["contact"]),
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CrmIntegrationSync(Model):
    """HubSpot: what flows where."""

    contacts: Optional[bool] = None
    push_contacts: Optional[bool] = None
    notes: Optional[bool] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CrmIntegrationSync:
        return cls(
            contacts=d.get("contacts"),
            push_contacts=d.get("push_contacts"),
            notes=d.get("notes"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CrmIntegrationLead(Model):
    """Salesforce: the Lead defaults."""

    company: Optional[str] = None
    status: Optional[str] = None
    lead_source: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CrmIntegrationLead:
        return cls(
            company=d.get("company"),
            status=d.get("status"),
            lead_source=d.get("lead_source"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CrmIntegrationHealth(Model):
    """`unhealthy` once the CRM refused the credentials (HubSpot 401); saving the integration again makes it healthy."""

    status: str
    reason: Optional[str] = None
    checked_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CrmIntegrationHealth:
        return cls(
            status=d["status"],
            reason=d.get("reason"),
            checked_at=d.get("checked_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CrmIntegration(Model):
    """A CRM integration's settings: credentials masked, never returned; and its health."""

    platform: str
    portal_id: Optional[str] = None
    sync: Optional[CrmIntegrationSync] = None
    access_token: Optional[str] = None
    webhook_url: Optional[str] = None
    login_url: Optional[str] = None
    client_id: Optional[str] = None
    lead: Optional[CrmIntegrationLead] = None
    tasks: Optional[bool] = None
    client_secret: str
    health: CrmIntegrationHealth
    created_at: str
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CrmIntegration:
        return cls(
            platform=d["platform"],
            portal_id=d.get("portal_id"),
            sync=CrmIntegrationSync.from_dict(d["sync"]) if d.get("sync") is not None else None,
            access_token=d.get("access_token"),
            webhook_url=d.get("webhook_url"),
            login_url=d.get("login_url"),
            client_id=d.get("client_id"),
            lead=CrmIntegrationLead.from_dict(d["lead"]) if d.get("lead") is not None else None,
            tasks=d.get("tasks"),
            client_secret=d["client_secret"],
            health=CrmIntegrationHealth.from_dict(d["health"]),
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Template(Model):
    """PyTake's copy of one of the WABA's message templates (one name in one language), as Meta last described it."""

    id: str
    name: str
    language: str
    category: str
    status: str
    parameter_format: Optional[str] = None
    quality_score: Optional[str] = None
    rejected_reason: Optional[str] = None
    components: Optional[List[Dict[str, Any]]] = None
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Template:
        return cls(
            id=d["id"],
            name=d["name"],
            language=d["language"],
            category=d["category"],
            status=d["status"],
            parameter_format=d.get("parameter_format"),
            quality_score=d.get("quality_score"),
            rejected_reason=d.get("rejected_reason"),
            components=[dict(x) for x in d["components"]] if d.get("components") is not None else None,
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class TemplatePage(Model):
    """TemplatePage (see the OpenAPI document)."""

    data: List[Template]
    next_cursor: str
    synced_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TemplatePage:
        return cls(
            data=[Template.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            synced_at=d.get("synced_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class TemplateLanguages(Model):
    """TemplateLanguages (see the OpenAPI document)."""

    name: str
    data: List[Template]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TemplateLanguages:
        return cls(
            name=d["name"],
            data=[Template.from_dict(x) for x in d["data"]],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class TemplateChange(Model):
    """TemplateChange (see the OpenAPI document)."""

    name: str
    language: str
    status: str
    previous_status: str
    removed: bool

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TemplateChange:
        return cls(
            name=d["name"],
            language=d["language"],
            status=d["status"],
            previous_status=d["previous_status"],
            removed=d["removed"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class TemplateSyncResult(Model):
    """TemplateSyncResult (see the OpenAPI document)."""

    synced_at: str
    count: int
    changes: List[TemplateChange]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TemplateSyncResult:
        return cls(
            synced_at=d["synced_at"],
            count=d["count"],
            changes=[TemplateChange.from_dict(x) for x in d["changes"]],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class MediaUpload(Model):
    """MediaUpload (see the OpenAPI document)."""

    id: str
    type: str
    mime_type: str
    size: int
    filename: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MediaUpload:
        return cls(
            id=d["id"],
            type=d["type"],
            mime_type=d["mime_type"],
            size=d["size"],
            filename=d["filename"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class ReadReceipt(Model):
    """ReadReceipt (see the OpenAPI document)."""

    id: str
    wamid: str
    read: bool
    typing: bool

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReadReceipt:
        return cls(
            id=d["id"],
            wamid=d["wamid"],
            read=d["read"],
            typing=d["typing"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class OptOutSettings(Model):
    """The organisation's opt-out keywords and confirmation reply."""

    keywords: List[str]
    confirmation: Optional[str] = None
    default: bool
    updated_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OptOutSettings:
        return cls(
            keywords=list(d["keywords"]),
            confirmation=d.get("confirmation"),
            default=d["default"],
            updated_at=d.get("updated_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class OptOut(Model):
    """Why and when a contact opted out of marketing messages."""

    at: str
    reason: str
    keyword: Optional[str] = None
    message_id: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OptOut:
        return cls(
            at=d["at"],
            reason=d["reason"],
            keyword=d.get("keyword"),
            message_id=d.get("message_id"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CampaignCounts(Model):
    """CampaignCounts (see the OpenAPI document)."""

    recipients: int
    pending: int
    queued: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    skipped: Dict[str, int]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignCounts:
        return cls(
            recipients=d["recipients"],
            pending=d["pending"],
            queued=d["queued"],
            sent=d["sent"],
            delivered=d["delivered"],
            read=d["read"],
            replied=d["replied"],
            failed=d["failed"],
            skipped=dict(d["skipped"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CampaignAudience(Model):
    """CampaignAudience (see the OpenAPI document)."""

    tags: List[str]
    contact_ids: List[str]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignAudience:
        return cls(
            tags=list(d["tags"]),
            contact_ids=list(d["contact_ids"]),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class Campaign(Model):
    """Campaign (see the OpenAPI document)."""

    id: str
    name: str
    status: str
    template: Dict[str, Any]
    audience: CampaignAudience
    send_at: str
    counts: CampaignCounts
    test: Optional[bool] = None
    created_at: str
    started_at: Optional[str] = None
    completed_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Campaign:
        return cls(
            id=d["id"],
            name=d["name"],
            status=d["status"],
            template=dict(d["template"]),
            audience=CampaignAudience.from_dict(d["audience"]),
            send_at=d["send_at"],
            counts=CampaignCounts.from_dict(d["counts"]),
            test=d.get("test"),
            created_at=d["created_at"],
            started_at=d.get("started_at"),
            completed_at=d.get("completed_at"),
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CampaignPage(Model):
    """CampaignPage (see the OpenAPI document)."""

    data: List[Campaign]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignPage:
        return cls(
            data=[Campaign.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CampaignRecipient(Model):
    """CampaignRecipient (see the OpenAPI document)."""

    contact_id: str
    status: str
    message_id: Optional[str] = None
    skip_reason: Optional[str] = None
    detail: Optional[str] = None
    updated_at: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignRecipient:
        return cls(
            contact_id=d["contact_id"],
            status=d["status"],
            message_id=d.get("message_id"),
            skip_reason=d.get("skip_reason"),
            detail=d.get("detail"),
            updated_at=d["updated_at"],
            _raw=dict(d),
        )


@dataclass(kw_only=True)
class CampaignRecipientPage(Model):
    """CampaignRecipientPage (see the OpenAPI document)."""

    data: List[CampaignRecipient]
    next_cursor: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignRecipientPage:
        return cls(
            data=[CampaignRecipient.from_dict(x) for x in d["data"]],
            next_cursor=d["next_cursor"],
            _raw=dict(d),
        )


class WhatsAppSettingsInput(TypedDict, total=False):
    """Meta credentials. Lengths of app_secret and verify_token are counted in bytes (8 to 256); access_token at most 4096 bytes."""

    phone_number_id: Required[str]
    access_token: Required[str]
    app_secret: Required[str]
    verify_token: Required[str]
    waba_id: Optional[str]
    graph_api_version: Optional[str]


class PhoneSettingsInput(TypedDict, total=False):
    """PhoneSettingsInput (see the OpenAPI document)."""

    default_country: Optional[str]


class WebhookSecret(TypedDict, total=False):
    """Your own signing secret, or null/absent to have one generated (`whsec_` + base64 of 32 random bytes). Either `whsec_` + canonical standard base64 of 24 to 64 random bytes, or any 6 to 256 printable ASCII characters without spaces (the integrations guide's `abc123` works; prefer 32 or more random ..."""

    pass


class WebhookInput(TypedDict, total=False):
    """WebhookInput (see the OpenAPI document)."""

    name: Optional[str]
    url: Required[str]
    events: Required[Sequence[str]]
    secret: WebhookSecret
    active: Optional[bool]


class WebhookPatch(TypedDict, total=False):
    """The fields to change; absent or null fields keep their value. Re-activating clears disabled_reason and the failure streak."""

    name: Optional[str]
    url: Optional[str]
    events: Optional[Sequence[str]]
    active: Optional[bool]


class AttributesInput(TypedDict, total=False):
    """Up to 50 attributes; keys 1 to 64 characters; values strings (at most 1024 characters), finite numbers or booleans. A null value removes the key. Numbers must also fit the data store (zero, or a magnitude from 1e-130 to below 1e125): others are refused (422)."""

    pass


class ContactInput(TypedDict, total=False):
    """ContactInput (see the OpenAPI document)."""

    whatsapp_id: Required[str]
    name: Optional[str]
    email: Optional[str]
    tags: Optional[Sequence[str]]
    attributes: Optional[AttributesInput]


class ContactPatch(TypedDict, total=False):
    """name and email are set, tags replaced, attributes merged (null removes a key); absent or null fields are left alone."""

    name: Optional[str]
    email: Optional[str]
    tags: Optional[Sequence[str]]
    attributes: Optional[AttributesInput]


class TagsInput(TypedDict, total=False):
    """TagsInput (see the OpenAPI document)."""

    tags: Required[Sequence[str]]


class ConversationPatch(TypedDict, total=False):
    """Send status, assignee and/or handoff. satisfaction only with status resolved; handoff true not with status resolved."""

    status: Optional[Literal["open", "resolved"]]
    satisfaction: Optional[int]
    assignee: Optional[str]
    handoff: Optional[bool]


class APIKeyInput(TypedDict, total=False):
    """APIKeyInput (see the OpenAPI document)."""

    name: Required[str]
    mode: Optional[Literal["live", "test"]]
    scopes: Optional[Sequence[Literal["admin", "chatbots:read", "chatbots:write", "contacts:read", "contacts:write", "messages:read", "messages:write", "webhooks:read", "webhooks:write"]]]


class ZapierHookInput(TypedDict, total=False):
    """Zapier's REST hook subscribe: the target URL under hookUrl (Zapier's name), target_url or url (the first non-empty one is used), and one event."""

    hookUrl: Optional[str]
    target_url: Optional[str]
    url: Optional[str]
    event: Required[str]


class ChatbotButtonInput(TypedDict, total=False):
    """ChatbotButtonInput (see the OpenAPI document)."""

    id: Required[str]
    title: Required[str]


class OutboundTemplateLanguage(TypedDict, total=False):
    """OutboundTemplateLanguage (see the OpenAPI document)."""

    code: Required[str]
    policy: Optional[Literal["deterministic"]]


class OutboundTemplate(TypedDict, total=False):
    """An approved template; the only kind of message allowed outside the 24-hour customer-service window."""

    name: Required[str]
    language: Required[OutboundTemplateLanguage]
    components: Optional[Sequence[Mapping[str, Any]]]


class ChatbotReplyInput(TypedDict, total=False):
    """text: {type, text (at most 4096)}; buttons: {type, text (at most 1024), buttons (1 to 3)}; template: {type, template} with the template checked as POST /v1/messages checks it. Null members count as absent."""

    type: Required[Literal["text", "buttons", "template"]]
    text: Optional[str]
    buttons: Optional[Sequence[ChatbotButtonInput]]
    template: Optional[OutboundTemplate]


class ChatbotRuleInputMatch(TypedDict, total=False):
    """Exactly one of: keywords (whole words or phrases, ignoring case, accents and punctuation), reply_id (a button or list row the customer tapped), any: true."""

    keywords: Optional[Sequence[str]]
    reply_id: Optional[str]
    any: Optional[bool]


class ChatbotRuleInput(TypedDict, total=False):
    """When match matches, send reply and/or hand the conversation to agents (a rule needs a reply unless handoff is true)."""

    id: Optional[str]
    match: Required[ChatbotRuleInputMatch]
    reply: Optional[ChatbotReplyInput]
    handoff: Optional[bool]


class ChatbotInput(TypedDict, total=False):
    """A new chatbot. Unknown and duplicate members are refused; null members count as absent."""

    name: Required[str]
    welcome_message: Optional[str]
    active: Optional[bool]
    rules: Optional[Sequence[ChatbotRuleInput]]
    fallback: Optional[ChatbotReplyInput]


class ChatbotPatch(TypedDict, total=False):
    """Any of name, welcome_message, active, rules (the list is replaced) and fallback; an empty object changes nothing. welcome_message null (or "") and fallback null remove them; null is refused for name, active and rules."""

    name: str
    welcome_message: Optional[str]
    active: bool
    rules: Sequence[ChatbotRuleInput]
    fallback: Optional[ChatbotReplyInput]


class IntegrationTemplateInputLanguage(TypedDict, total=False):
    """IntegrationTemplateInputLanguage (see the OpenAPI document)."""

    code: Required[str]


class IntegrationTemplateInput(TypedDict, total=False):
    """IntegrationTemplateInput (see the OpenAPI document)."""

    name: Required[str]
    language: Required[IntegrationTemplateInputLanguage]
    parameters: Optional[Sequence[str]]


class IntegrationMessageInput(TypedDict, total=False):
    """A template (delivered any time) or a text (only inside the 24-hour customer-service window); type may be left out when only one of template and text is given."""

    type: Optional[Literal["template", "text", ""]]
    template: Optional[IntegrationTemplateInput]
    text: Optional[str]


class IntegrationTriggerInput(TypedDict, total=False):
    """enabled defaults to true; message defaults to the built-in one where there is one (required otherwise when enabled). null restores the default."""

    enabled: Optional[bool]
    message: Optional[IntegrationMessageInput]


class IntegrationContactInputAttributes(TypedDict, total=False):
    """IntegrationContactInputAttributes (see the OpenAPI document)."""

    last_purchase: Optional[bool]
    total_spent: Optional[bool]


class IntegrationContactInput(TypedDict, total=False):
    """IntegrationContactInput (see the OpenAPI document)."""

    tags: Optional[Sequence[str]]
    attributes: Optional[IntegrationContactInputAttributes]


class ShopifyInput(TypedDict, total=False):
    """Shopify settings. Topics left out get their defaults (orders/create sends the order_confirmation template; fulfilled and cancelled are off)."""

    shop_domain: Required[str]
    webhook_secret: Optional[str]
    topics: Optional[Mapping[str, Optional[IntegrationTriggerInput]]]
    contact: Optional[IntegrationContactInput]


class WooCommerceInput(TypedDict, total=False):
    """WooCommerce settings. completed sends a text by default; other statuses (processing, on-hold, ...; a wc- prefix is dropped) need a message when enabled."""

    site_url: Required[str]
    webhook_secret: Optional[str]
    statuses: Optional[Mapping[str, Optional[IntegrationTriggerInput]]]
    contact: Optional[IntegrationContactInput]


class OutboundImageOrVideo(TypedDict, total=False):
    """An image or video: id (a media id from Meta) or link (an http(s) URL Meta fetches), not both; an optional caption."""

    id: Optional[str]
    link: Optional[str]
    caption: Optional[str]


class OutboundDocument(TypedDict, total=False):
    """A document: id or link, not both; optional caption and filename."""

    id: Optional[str]
    link: Optional[str]
    caption: Optional[str]
    filename: Optional[str]


class OutboundAudioOrSticker(TypedDict, total=False):
    """Audio or a sticker: id or link, not both (no caption)."""

    id: Optional[str]
    link: Optional[str]


class OutboundText(TypedDict, total=False):
    """OutboundText (see the OpenAPI document)."""

    body: Required[str]
    preview_url: Optional[bool]


class OutboundInteractiveBody(TypedDict, total=False):
    """OutboundInteractiveBody (see the OpenAPI document)."""

    text: Required[str]


class OutboundInteractiveFooter(TypedDict, total=False):
    """OutboundInteractiveFooter (see the OpenAPI document)."""

    text: Required[str]


class OutboundInteractive(TypedDict, total=False):
    """Reply buttons (up to 3), a list (up to 10 sections and 10 rows) or a call-to-action URL button, with Meta's limits (body 1024 characters, 4096 for lists; header and footer 60; button titles 20; ...)."""

    type: Required[Literal["button", "list", "cta_url"]]
    header: Optional[Mapping[str, Any]]
    body: Required[OutboundInteractiveBody]
    footer: Optional[OutboundInteractiveFooter]
    action: Required[Mapping[str, Any]]


class OutboundLocation(TypedDict, total=False):
    """OutboundLocation (see the OpenAPI document)."""

    latitude: Required[float]
    longitude: Required[float]
    name: Optional[str]
    address: Optional[str]


class OutboundReaction(TypedDict, total=False):
    """OutboundReaction (see the OpenAPI document)."""

    message_id: Required[str]
    emoji: Required[str]


class SendMessageRequestContext(TypedDict, total=False):
    """SendMessageRequestContext (see the OpenAPI document)."""

    message_id: Required[str]


class SendMessageRequest(TypedDict, total=False):
    """Meta's message shape ({messaging_product, recipient_type, to, type, <type>: {...}, context, biz_opaque_callback_data}; messaging_product and recipient_type optional, `type` optional when exactly one message object is given) or the shorthand {"to": "+5511999999999", "text": "Olá!"}. Give exactly ..."""

    messaging_product: Optional[Literal["whatsapp"]]
    recipient_type: Optional[Literal["individual"]]
    to: Optional[str]
    recipient: Optional[str]
    type: Optional[Literal["text", "image", "document", "audio", "video", "sticker", "interactive", "template", "location", "reaction"]]
    context: Optional[SendMessageRequestContext]
    biz_opaque_callback_data: Optional[str]
    send_at: Optional[str]
    text: Optional[Union[str, OutboundText]]
    image: Optional[OutboundImageOrVideo]
    video: Optional[OutboundImageOrVideo]
    document: Optional[OutboundDocument]
    audio: Optional[OutboundAudioOrSticker]
    sticker: Optional[OutboundAudioOrSticker]
    interactive: Optional[OutboundInteractive]
    template: Optional[OutboundTemplate]
    location: Optional[OutboundLocation]
    reaction: Optional[OutboundReaction]


class SecretRotationInput(TypedDict, total=False):
    """Optional: the new secret, chosen by you. Without it (or with no body) one is generated."""

    secret: WebhookSecret


class HubSpotSync(TypedDict, total=False):
    """What flows where; each defaults to true."""

    contacts: Optional[bool]
    push_contacts: Optional[bool]
    notes: Optional[bool]


class HubSpotInput(TypedDict, total=False):
    """HubSpot settings: a private app's access token (CRM contacts read/write and notes scopes) and the app's client secret, which signs its webhooks."""

    portal_id: Required[str]
    access_token: Optional[str]
    client_secret: Optional[str]
    sync: Optional[HubSpotSync]


class SalesforceLeadDefaults(TypedDict, total=False):
    """The Lead fields that do not come from the contact; the guide's values by default."""

    company: Optional[str]
    status: Optional[str]
    lead_source: Optional[str]


class SalesforceInput(TypedDict, total=False):
    """Salesforce settings: a connected app with the OAuth 2.0 client credentials flow enabled (and a run-as integration user)."""

    login_url: Required[str]
    client_id: Required[str]
    client_secret: Optional[str]
    lead: Optional[SalesforceLeadDefaults]
    tasks: Optional[bool]


class TemplateComponentInput(TypedDict, total=False):
    """A component in Meta's shape. HEADER: `format` TEXT (`text` of at most 60 characters, at most one variable, `example.header_text`), IMAGE, VIDEO, GIF, DOCUMENT (`example.header_handle`) or LOCATION. BODY (required): `text` of at most 1,024 characters, variables {{1}}..{{n}} without gaps and not ..."""

    type: Required[str]
    format: str
    text: str
    buttons: Sequence[Mapping[str, Any]]
    example: Mapping[str, Any]


class TemplateInput(TypedDict, total=False):
    """A template to create, in Meta's request shape."""

    name: Required[str]
    language: Required[str]
    category: Required[str]
    parameter_format: Literal["named", "positional", "NAMED", "POSITIONAL"]
    allow_category_change: bool
    components: Required[Sequence[TemplateComponentInput]]


class ReadReceiptInput(TypedDict, total=False):
    """ReadReceiptInput (see the OpenAPI document)."""

    typing: bool


class OptOutSettingsInput(TypedDict, total=False):
    """OptOutSettingsInput (see the OpenAPI document)."""

    keywords: Required[Sequence[str]]
    confirmation: Optional[str]


class CampaignInputAudience(TypedDict, total=False):
    """CampaignInputAudience (see the OpenAPI document)."""

    tags: Sequence[str]
    contact_ids: Sequence[str]


class CampaignInput(TypedDict, total=False):
    """CampaignInput (see the OpenAPI document)."""

    name: Required[str]
    template: Required[Mapping[str, Any]]
    audience: Required[CampaignInputAudience]
    send_at: str
