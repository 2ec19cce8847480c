"""The API's resources: one method per operation of the OpenAPI document.

``@operation`` names the operation; tests/test_operations.py checks that every
operationId has a method. pytake/_sync/resources.py is generated from this file
by scripts/unasync.py: edit this one."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, TypeVar, Union

from .. import types as t
from .._core import (
    NOT_GIVEN,
    AsyncPager,
    MediaFile,
    NotGiven,
    Op,
    body,
    json_of,
    new_idempotency_key,
    page_parser,
    parse_media,
    parse_model,
    parse_none,
    path,
    rfc3339,
    strings,
)

if TYPE_CHECKING:
    from .client import AsyncPyTake

F = TypeVar("F", bound=Callable[..., Any])


def operation(operation_id: str) -> Callable[[F], F]:
    """Marks the method that implements an operation of the OpenAPI document."""

    def mark(f: F) -> F:
        setattr(f, "__pytake_operation__", operation_id)
        return f

    return mark


def _query(**params: Any) -> Dict[str, Any]:
    return {k: v for k, v in params.items() if not isinstance(v, NotGiven) and v is not None}


class _Resource:
    def __init__(self, client: AsyncPyTake) -> None:
        self._client = client


class AsyncMeta(_Resource):
    """Health and the OpenAPI document (no key needed)."""

    @operation("getHealth")
    async def health(self) -> t.Health:
        """GET /v1/health."""
        return await self._client._request(Op("getHealth", "GET", "/health", parse_model(t.Health.from_dict)))

    @operation("getOpenAPI")
    async def openapi(self) -> Dict[str, Any]:
        """GET /v1/openapi.json: the OpenAPI 3.1 document of the API."""
        doc: Dict[str, Any] = await self._client._request(Op("getOpenAPI", "GET", "/openapi.json", json_of))
        return doc


class AsyncOrganization(_Resource):
    @operation("getOrganization")
    async def retrieve(self) -> t.Organization:
        """The key's organisation and the key itself (prefix, last four)."""
        return await self._client._request(
            Op("getOrganization", "GET", "/organization", parse_model(t.Organization.from_dict))
        )


class AsyncAPIKeys(_Resource):
    @operation("createAPIKey")
    async def create(
        self,
        *,
        name: str,
        mode: Union[Literal["live", "test"], None, NotGiven] = NOT_GIVEN,
        scopes: Union[Sequence[str], None, NotGiven] = NOT_GIVEN,
    ) -> t.NewAPIKey:
        """A new key; its secret is in ``.key``, shown this once. ``scopes``
        default to every scope but ``admin``."""
        return await self._client._request(
            Op(
                "createAPIKey",
                "POST",
                "/api-keys",
                parse_model(t.NewAPIKey.from_dict),
                json=body(name=name, mode=mode, scopes=scopes),
            )
        )

    @operation("listAPIKeys")
    def list(self, *, limit: Union[int, NotGiven] = NOT_GIVEN) -> AsyncPager[t.APIKey]:
        return AsyncPager(
            self._client,
            Op("listAPIKeys", "GET", "/api-keys", page_parser(t.APIKey.from_dict), params=_query(limit=limit)),
        )

    @operation("getAPIKey")
    async def retrieve(self, key_id: str) -> t.APIKey:
        return await self._client._request(
            Op("getAPIKey", "GET", path("/api-keys/{id}", id=key_id), parse_model(t.APIKey.from_dict))
        )

    @operation("revokeAPIKey")
    async def revoke(self, key_id: str) -> t.APIKey:
        """Revoke at once: the next request with the key gets 401 api_key_revoked."""
        return await self._client._request(
            Op("revokeAPIKey", "DELETE", path("/api-keys/{id}", id=key_id), parse_model(t.APIKey.from_dict))
        )


class AsyncMessages(_Resource):
    @operation("sendMessage")
    async def send(
        self,
        *,
        to: Union[str, None, NotGiven] = NOT_GIVEN,
        text: Union[str, t.OutboundText, None, NotGiven] = NOT_GIVEN,
        type: Union[
            Literal["text", "image", "document", "audio", "video", "sticker", "interactive", "template", "location", "reaction"],
            None,
            NotGiven,
        ] = NOT_GIVEN,
        template: Union[t.OutboundTemplate, None, NotGiven] = NOT_GIVEN,
        image: Union[t.OutboundImageOrVideo, None, NotGiven] = NOT_GIVEN,
        video: Union[t.OutboundImageOrVideo, None, NotGiven] = NOT_GIVEN,
        document: Union[t.OutboundDocument, None, NotGiven] = NOT_GIVEN,
        audio: Union[t.OutboundAudioOrSticker, None, NotGiven] = NOT_GIVEN,
        sticker: Union[t.OutboundAudioOrSticker, None, NotGiven] = NOT_GIVEN,
        interactive: Union[t.OutboundInteractive, None, NotGiven] = NOT_GIVEN,
        location: Union[t.OutboundLocation, None, NotGiven] = NOT_GIVEN,
        reaction: Union[t.OutboundReaction, None, NotGiven] = NOT_GIVEN,
        context: Union[t.SendMessageRequestContext, None, NotGiven] = NOT_GIVEN,
        recipient: Union[str, None, NotGiven] = NOT_GIVEN,
        biz_opaque_callback_data: Union[str, None, NotGiven] = NOT_GIVEN,
        messaging_product: Union[Literal["whatsapp"], None, NotGiven] = NOT_GIVEN,
        recipient_type: Union[Literal["individual"], None, NotGiven] = NOT_GIVEN,
        send_at: Union[str, datetime.datetime, None, NotGiven] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
    ) -> t.SendResult:
        """Send a message: ``send(to="+5511999999999", text="Olá!")``, or any of
        Meta's message objects (``template={...}``, ``image={...}``, ...).

        ``send_at`` (an RFC 3339 string, or a datetime with its time zone)
        schedules it, a minute to 30 days ahead: it is ``scheduled`` until
        then and ``cancel(message_id)`` cancels it.

        Every call carries an Idempotency-Key (``idempotency_key``, or one made
        here), so a retry after a timeout or a 5xx never sends twice; pass your
        own (an order id, say) to make the send idempotent across processes.
        """
        payload = body(
            messaging_product=messaging_product,
            recipient_type=recipient_type,
            to=to,
            recipient=recipient,
            type=type,
            context=context,
            biz_opaque_callback_data=biz_opaque_callback_data,
            send_at=rfc3339("send_at", send_at),
            text=text,
            image=image,
            video=video,
            document=document,
            audio=audio,
            sticker=sticker,
            interactive=interactive,
            template=template,
            location=location,
            reaction=reaction,
        )
        key = idempotency_key or new_idempotency_key()
        return await self._client._request(
            Op(
                "sendMessage",
                "POST",
                "/messages",
                parse_model(t.SendResult.from_dict),
                json=payload,
                headers={"Idempotency-Key": key},
            )
        )

    @operation("getMessage")
    async def retrieve(self, message_id: str) -> t.Message:
        """Status, timeline, wamid and error of a message."""
        return await self._client._request(
            Op("getMessage", "GET", path("/messages/{id}", id=message_id), parse_model(t.Message.from_dict))
        )

    @operation("cancelMessage")
    async def cancel(self, message_id: str) -> t.Message:
        """Cancels a scheduled message before its send_at (status
        ``cancelled``); one already released is a ConflictError
        (``message_not_scheduled``)."""
        return await self._client._request(
            Op("cancelMessage", "DELETE", path("/messages/{id}", id=message_id), parse_model(t.Message.from_dict))
        )

    @operation("markMessageRead")
    async def mark_read(self, message_id: str, *, typing: Union[bool, NotGiven] = NOT_GIVEN) -> t.ReadReceipt:
        """Marks a message the customer sent read at Meta (blue ticks);
        ``typing=True`` also shows the typing indicator until the reply."""
        return await self._client._request(
            Op(
                "markMessageRead",
                "POST",
                path("/messages/{id}/read", id=message_id),
                parse_model(t.ReadReceipt.from_dict),
                json=body(typing=typing),
            )
        )


class AsyncConversations(_Resource):
    @operation("listConversations")
    def list(
        self,
        *,
        status: Union[Literal["open", "resolved"], NotGiven] = NOT_GIVEN,
        contact_id: Union[str, NotGiven] = NOT_GIVEN,
        limit: Union[int, NotGiven] = NOT_GIVEN,
    ) -> AsyncPager[t.Conversation]:
        """Conversations, newest first."""
        return AsyncPager(
            self._client,
            Op(
                "listConversations",
                "GET",
                "/conversations",
                page_parser(t.Conversation.from_dict),
                params=_query(status=status, contact_id=contact_id, limit=limit),
            ),
        )

    @operation("getConversation")
    async def retrieve(self, conversation_id: str) -> t.Conversation:
        return await self._client._request(
            Op("getConversation", "GET", path("/conversations/{id}", id=conversation_id), parse_model(t.Conversation.from_dict))
        )

    @operation("updateConversation")
    async def update(
        self,
        conversation_id: str,
        *,
        status: Union[Literal["open", "resolved"], None, NotGiven] = NOT_GIVEN,
        satisfaction: Union[int, None, NotGiven] = NOT_GIVEN,
        assignee: Union[str, None, NotGiven] = NOT_GIVEN,
        handoff: Union[bool, None, NotGiven] = NOT_GIVEN,
    ) -> t.Conversation:
        """Resolve (``status="resolved"``, ``satisfaction`` 1-5), reopen, assign,
        or hand to agents (``handoff=True``) and back."""
        return await self._client._request(
            Op(
                "updateConversation",
                "PATCH",
                path("/conversations/{id}", id=conversation_id),
                parse_model(t.Conversation.from_dict),
                json=body(status=status, satisfaction=satisfaction, assignee=assignee, handoff=handoff),
            )
        )

    @operation("listConversationMessages")
    def list_messages(self, conversation_id: str, *, limit: Union[int, NotGiven] = NOT_GIVEN) -> AsyncPager[t.Message]:
        """A conversation's messages."""
        return AsyncPager(
            self._client,
            Op(
                "listConversationMessages",
                "GET",
                path("/conversations/{id}/messages", id=conversation_id),
                page_parser(t.Message.from_dict),
                params=_query(limit=limit),
            ),
        )


class AsyncMedia(_Resource):
    @operation("getMedia")
    async def download(self, media_id: str) -> MediaFile:
        """A received media file's bytes (``.content``) and ``.content_type``."""
        return await self._client._request(
            Op("getMedia", "GET", path("/media/{media_id}", media_id=media_id), parse_media)
        )

    @operation("uploadMedia")
    async def upload(
        self, file: bytes, *, mime_type: str, filename: Union[str, NotGiven] = NOT_GIVEN
    ) -> t.MediaUpload:
        """Uploads a file to Meta; send the answer's ``id`` as
        ``{"type": "image", "image": {"id": ...}}``."""
        return await self._client._request(
            Op(
                "uploadMedia",
                "POST",
                "/media",
                parse_model(t.MediaUpload.from_dict),
                params=_query(filename=filename),
                headers={"Content-Type": mime_type},
                content=bytes(file),
            )
        )


class AsyncTemplates(_Resource):
    """The WABA's message templates: PyTake's copy, and calls to Meta."""

    @operation("listTemplates")
    def list(
        self,
        *,
        name: Union[str, NotGiven] = NOT_GIVEN,
        language: Union[str, NotGiven] = NOT_GIVEN,
        status: Union[str, NotGiven] = NOT_GIVEN,
        category: Union[str, NotGiven] = NOT_GIVEN,
        limit: Union[int, NotGiven] = NOT_GIVEN,
    ) -> AsyncPager[t.Template]:
        """PyTake's copy of the templates, by name then language."""
        return AsyncPager(
            self._client,
            Op(
                "listTemplates",
                "GET",
                "/templates",
                page_parser(t.Template.from_dict),
                params=_query(name=name, language=language, status=status, category=category, limit=limit),
            ),
        )

    @operation("getTemplate")
    async def retrieve(self, name: str) -> t.TemplateLanguages:
        """Every language of a template name."""
        return await self._client._request(
            Op("getTemplate", "GET", path("/templates/{name}", name=name), parse_model(t.TemplateLanguages.from_dict))
        )

    @operation("createTemplate")
    async def create(
        self,
        *,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        parameter_format: Union[str, NotGiven] = NOT_GIVEN,
        allow_category_change: Union[bool, NotGiven] = NOT_GIVEN,
    ) -> t.Template:
        """Checks a template against Meta's rules and creates it at Meta
        (status PENDING until Meta's review)."""
        return await self._client._request(
            Op(
                "createTemplate",
                "POST",
                "/templates",
                parse_model(t.Template.from_dict),
                json=body(
                    name=name,
                    language=language,
                    category=category,
                    components=[dict(c) for c in components],
                    parameter_format=parameter_format,
                    allow_category_change=allow_category_change,
                ),
            )
        )

    @operation("deleteTemplate")
    async def delete(self, name: str, *, language: Union[str, NotGiven] = NOT_GIVEN) -> None:
        """Deletes a template at Meta: every language, or one."""
        return await self._client._request(
            Op("deleteTemplate", "DELETE", path("/templates/{name}", name=name), parse_none, params=_query(language=language))
        )

    @operation("syncTemplates")
    async def sync(self) -> t.TemplateSyncResult:
        """Pulls every template from Meta into PyTake's copy."""
        return await self._client._request(
            Op("syncTemplates", "POST", "/templates/sync", parse_model(t.TemplateSyncResult.from_dict))
        )


class AsyncContacts(_Resource):
    @operation("createContact")
    async def create(
        self,
        *,
        whatsapp_id: str,
        name: Union[str, None, NotGiven] = NOT_GIVEN,
        email: Union[str, None, NotGiven] = NOT_GIVEN,
        tags: Union[Sequence[str], None, NotGiven] = NOT_GIVEN,
        attributes: Union[Mapping[str, Union[str, float, bool]], None, NotGiven] = NOT_GIVEN,
    ) -> t.Contact:
        """A new contact; a number already known raises ConflictError with
        ``existing_id``."""
        return await self._client._request(
            Op(
                "createContact",
                "POST",
                "/contacts",
                parse_model(t.Contact.from_dict),
                json=body(whatsapp_id=whatsapp_id, name=name, email=email, tags=strings("tags", tags), attributes=attributes),
            )
        )

    @operation("listContacts")
    def list(
        self,
        *,
        tag: Union[str, NotGiven] = NOT_GIVEN,
        whatsapp_id: Union[str, NotGiven] = NOT_GIVEN,
        email: Union[str, NotGiven] = NOT_GIVEN,
        limit: Union[int, NotGiven] = NOT_GIVEN,
    ) -> AsyncPager[t.Contact]:
        """Contacts, oldest first; ``tag``, ``whatsapp_id`` (exact) and ``email``
        filter them."""
        return AsyncPager(
            self._client,
            Op(
                "listContacts",
                "GET",
                "/contacts",
                page_parser(t.Contact.from_dict),
                params=_query(tag=tag, whatsapp_id=whatsapp_id, email=email, limit=limit),
            ),
        )

    @operation("getContact")
    async def retrieve(self, contact_id: str) -> t.Contact:
        return await self._client._request(
            Op("getContact", "GET", path("/contacts/{id}", id=contact_id), parse_model(t.Contact.from_dict))
        )

    @operation("updateContact")
    async def update(
        self,
        contact_id: str,
        *,
        name: Union[str, None, NotGiven] = NOT_GIVEN,
        email: Union[str, None, NotGiven] = NOT_GIVEN,
        tags: Union[Sequence[str], None, NotGiven] = NOT_GIVEN,
        attributes: Union[Mapping[str, Union[str, float, bool, None]], None, NotGiven] = NOT_GIVEN,
    ) -> t.Contact:
        """Set name and email, replace tags, merge attributes (a ``None`` value
        removes that attribute)."""
        return await self._client._request(
            Op(
                "updateContact",
                "PATCH",
                path("/contacts/{id}", id=contact_id),
                parse_model(t.Contact.from_dict),
                json=body(name=name, email=email, tags=strings("tags", tags), attributes=attributes),
            )
        )

    @operation("deleteContact")
    async def delete(self, contact_id: str) -> None:
        await self._client._request(
            Op("deleteContact", "DELETE", path("/contacts/{id}", id=contact_id), parse_none)
        )

    @operation("addContactTags")
    async def add_tags(self, contact_id: str, tags: Sequence[str]) -> t.Contact:
        return await self._client._request(
            Op(
                "addContactTags",
                "POST",
                path("/contacts/{id}/tags", id=contact_id),
                parse_model(t.Contact.from_dict),
                json={"tags": strings("tags", tags)},
            )
        )

    @operation("removeContactTag")
    async def remove_tag(self, contact_id: str, tag: str) -> t.Contact:
        return await self._client._request(
            Op(
                "removeContactTag",
                "DELETE",
                path("/contacts/{id}/tags/{tag}", id=contact_id, tag=tag),
                parse_model(t.Contact.from_dict),
            )
        )

    @operation("optInContact")
    async def opt_in(self, contact_id: str) -> t.Contact:
        """Record the contact's new consent to marketing messages (lifts its opt-out)."""
        return await self._client._request(
            Op("optInContact", "POST", path("/contacts/{id}/opt-in", id=contact_id), parse_model(t.Contact.from_dict))
        )


class AsyncChatbots(_Resource):
    @operation("createChatbot")
    async def create(
        self,
        *,
        name: str,
        welcome_message: Union[str, None, NotGiven] = NOT_GIVEN,
        active: Union[bool, None, NotGiven] = NOT_GIVEN,
        rules: Union[Sequence[t.ChatbotRuleInput], None, NotGiven] = NOT_GIVEN,
        fallback: Union[t.ChatbotReplyInput, None, NotGiven] = NOT_GIVEN,
    ) -> t.Chatbot:
        """A chatbot (active at once unless ``active=False``; one active bot per
        organisation)."""
        return await self._client._request(
            Op(
                "createChatbot",
                "POST",
                "/chatbots",
                parse_model(t.Chatbot.from_dict),
                json=body(name=name, welcome_message=welcome_message, active=active, rules=rules, fallback=fallback),
            )
        )

    @operation("listChatbots")
    def list(self, *, limit: Union[int, NotGiven] = NOT_GIVEN) -> AsyncPager[t.Chatbot]:
        return AsyncPager(
            self._client,
            Op("listChatbots", "GET", "/chatbots", page_parser(t.Chatbot.from_dict), params=_query(limit=limit)),
        )

    @operation("getChatbot")
    async def retrieve(self, chatbot_id: str) -> t.Chatbot:
        return await self._client._request(
            Op("getChatbot", "GET", path("/chatbots/{id}", id=chatbot_id), parse_model(t.Chatbot.from_dict))
        )

    @operation("updateChatbot")
    async def update(
        self,
        chatbot_id: str,
        *,
        name: Union[str, NotGiven] = NOT_GIVEN,
        welcome_message: Union[str, None, NotGiven] = NOT_GIVEN,
        active: Union[bool, NotGiven] = NOT_GIVEN,
        rules: Union[Sequence[t.ChatbotRuleInput], NotGiven] = NOT_GIVEN,
        fallback: Union[t.ChatbotReplyInput, None, NotGiven] = NOT_GIVEN,
    ) -> t.Chatbot:
        """Change members; ``rules`` replaces the rules, ``fallback=None`` removes
        the fallback."""
        return await self._client._request(
            Op(
                "updateChatbot",
                "PATCH",
                path("/chatbots/{id}", id=chatbot_id),
                parse_model(t.Chatbot.from_dict),
                json=body(name=name, welcome_message=welcome_message, active=active, rules=rules, fallback=fallback),
            )
        )

    @operation("deleteChatbot")
    async def delete(self, chatbot_id: str) -> None:
        await self._client._request(
            Op("deleteChatbot", "DELETE", path("/chatbots/{id}", id=chatbot_id), parse_none)
        )


class AsyncDeliveries(_Resource):
    @operation("listWebhookDeliveries")
    def list(self, webhook_id: str, *, limit: Union[int, NotGiven] = NOT_GIVEN) -> AsyncPager[t.Delivery]:
        """The delivery log of a webhook (every attempt), newest first."""
        return AsyncPager(
            self._client,
            Op(
                "listWebhookDeliveries",
                "GET",
                path("/webhooks/{id}/deliveries", id=webhook_id),
                page_parser(t.Delivery.from_dict),
                params=_query(limit=limit),
            ),
        )

    @operation("retryWebhookDelivery")
    async def retry(self, webhook_id: str, delivery_id: str) -> t.Delivery:
        """Attempt a delivery again now."""
        return await self._client._request(
            Op(
                "retryWebhookDelivery",
                "POST",
                path("/webhooks/{id}/deliveries/{delivery_id}/retry", id=webhook_id, delivery_id=delivery_id),
                parse_model(t.Delivery.from_dict),
            )
        )


class AsyncWebhooks(_Resource):
    def __init__(self, client: AsyncPyTake) -> None:
        super().__init__(client)
        self.deliveries = AsyncDeliveries(client)

    @operation("listWebhookEvents")
    async def list_events(self) -> t.EventCatalogue:
        """The event catalogue, each event with a sample."""
        return await self._client._request(
            Op("listWebhookEvents", "GET", "/webhooks/events", parse_model(t.EventCatalogue.from_dict))
        )

    @operation("createWebhook")
    async def create(
        self,
        *,
        url: str,
        events: Sequence[str],
        name: Union[str, None, NotGiven] = NOT_GIVEN,
        secret: Union[str, None, NotGiven] = NOT_GIVEN,
        active: Union[bool, None, NotGiven] = NOT_GIVEN,
    ) -> t.NewWebhook:
        """A subscription; its signing secret (``.secret``) is shown this once."""
        return await self._client._request(
            Op(
                "createWebhook",
                "POST",
                "/webhooks",
                parse_model(t.NewWebhook.from_dict),
                json=body(name=name, url=url, events=strings("events", events), secret=secret, active=active),
            )
        )

    @operation("listWebhooks")
    def list(self) -> AsyncPager[t.Webhook]:
        return AsyncPager(self._client, Op("listWebhooks", "GET", "/webhooks", page_parser(t.Webhook.from_dict)))

    @operation("getWebhook")
    async def retrieve(self, webhook_id: str) -> t.Webhook:
        return await self._client._request(
            Op("getWebhook", "GET", path("/webhooks/{id}", id=webhook_id), parse_model(t.Webhook.from_dict))
        )

    @operation("updateWebhook")
    async def update(
        self,
        webhook_id: str,
        *,
        name: Union[str, None, NotGiven] = NOT_GIVEN,
        url: Union[str, None, NotGiven] = NOT_GIVEN,
        events: Union[Sequence[str], None, NotGiven] = NOT_GIVEN,
        active: Union[bool, None, NotGiven] = NOT_GIVEN,
    ) -> t.Webhook:
        """Change members (``active=True`` re-enables a disabled subscription)."""
        return await self._client._request(
            Op(
                "updateWebhook",
                "PATCH",
                path("/webhooks/{id}", id=webhook_id),
                parse_model(t.Webhook.from_dict),
                json=body(name=name, url=url, events=strings("events", events), active=active),
            )
        )

    @operation("deleteWebhook")
    async def delete(self, webhook_id: str) -> None:
        await self._client._request(
            Op("deleteWebhook", "DELETE", path("/webhooks/{id}", id=webhook_id), parse_none)
        )

    @operation("rotateWebhookSecret")
    async def rotate_secret(self, webhook_id: str, *, secret: Union[str, None, NotGiven] = NOT_GIVEN) -> t.SecretRotation:
        """A new secret (``secret``, or a generated one); the previous ones
        keep signing for 24 hours."""
        return await self._client._request(
            Op(
                "rotateWebhookSecret",
                "POST",
                path("/webhooks/{id}/rotate-secret", id=webhook_id),
                parse_model(t.SecretRotation.from_dict),
                json=body(secret=secret),
            )
        )

    @operation("testWebhook")
    async def test(self, webhook_id: str) -> t.WebhookTestResult:
        """Send a ``webhook.test`` event to the subscription."""
        return await self._client._request(
            Op("testWebhook", "POST", path("/webhooks/{id}/test", id=webhook_id), parse_model(t.WebhookTestResult.from_dict))
        )


class AsyncWhatsAppSettings(_Resource):
    @operation("getWhatsAppSettings")
    async def retrieve(self) -> t.WhatsAppSettings:
        """The WhatsApp connection, secrets masked."""
        return await self._client._request(
            Op("getWhatsAppSettings", "GET", "/settings/whatsapp", parse_model(t.WhatsAppSettings.from_dict))
        )

    @operation("putWhatsAppSettings")
    async def configure(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        app_secret: str,
        verify_token: str,
        waba_id: Union[str, None, NotGiven] = NOT_GIVEN,
        graph_api_version: Union[str, None, NotGiven] = NOT_GIVEN,
    ) -> t.WhatsAppSettings:
        """Connect (or reconnect) the organisation's WhatsApp number."""
        return await self._client._request(
            Op(
                "putWhatsAppSettings",
                "PUT",
                "/settings/whatsapp",
                parse_model(t.WhatsAppSettings.from_dict),
                json=body(
                    phone_number_id=phone_number_id,
                    access_token=access_token,
                    app_secret=app_secret,
                    verify_token=verify_token,
                    waba_id=waba_id,
                    graph_api_version=graph_api_version,
                ),
            )
        )

    @operation("testWhatsAppSettings")
    async def test(self) -> t.WhatsAppTestResult:
        """Ask Meta about the number with the stored credentials."""
        return await self._client._request(
            Op("testWhatsAppSettings", "POST", "/settings/whatsapp/test", parse_model(t.WhatsAppTestResult.from_dict))
        )


class AsyncPhoneSettings(_Resource):
    @operation("getPhoneSettings")
    async def retrieve(self) -> t.PhoneSettings:
        """How numbers written without a country code are read (the default country)."""
        return await self._client._request(Op("getPhoneSettings", "GET", "/settings/phone", parse_model(t.PhoneSettings.from_dict)))

    @operation("putPhoneSettings")
    async def update(self, *, default_country: Optional[str]) -> t.PhoneSettings:
        """Set the default country (ISO 3166-1 alpha-2), or None for the WhatsApp number's."""
        return await self._client._request(
            Op(
                "putPhoneSettings",
                "PUT",
                "/settings/phone",
                parse_model(t.PhoneSettings.from_dict),
                json=body(default_country=default_country),
            )
        )


class AsyncOptOutSettings(_Resource):
    @operation("getOptOutSettings")
    async def retrieve(self) -> t.OptOutSettings:
        """The opt-out keywords and the confirmation reply."""
        return await self._client._request(
            Op("getOptOutSettings", "GET", "/settings/opt-out", parse_model(t.OptOutSettings.from_dict))
        )

    @operation("putOptOutSettings")
    async def update(
        self, *, keywords: Sequence[str], confirmation: Union[str, None, NotGiven] = NOT_GIVEN
    ) -> t.OptOutSettings:
        """Replace the opt-out keywords (an empty list turns them off) and the confirmation reply (None: none)."""
        return await self._client._request(
            Op(
                "putOptOutSettings",
                "PUT",
                "/settings/opt-out",
                parse_model(t.OptOutSettings.from_dict),
                json=body(keywords=strings("keywords", keywords), confirmation=confirmation),
            )
        )


class AsyncSettings:
    def __init__(self, client: AsyncPyTake) -> None:
        self.whatsapp = AsyncWhatsAppSettings(client)
        self.phone = AsyncPhoneSettings(client)
        self.opt_out = AsyncOptOutSettings(client)


class AsyncCampaigns(_Resource):
    @operation("createCampaign")
    async def create(
        self,
        *,
        name: str,
        template: Mapping[str, Any],
        audience: Mapping[str, Any],
        send_at: Union[str, NotGiven] = NOT_GIVEN,
    ) -> t.Campaign:
        """A template broadcast: ``template`` as messages.send takes it, whose text
        parameters may use {{contact.first_name}} and the like; ``audience`` is
        {"tags": [...]} and/or {"contact_ids": [...]}; ``send_at`` RFC 3339."""
        return await self._client._request(
            Op(
                "createCampaign",
                "POST",
                "/campaigns",
                parse_model(t.Campaign.from_dict),
                json=body(name=name, template=dict(template), audience=dict(audience), send_at=send_at),
            )
        )

    @operation("listCampaigns")
    def list(self, *, limit: Union[int, NotGiven] = NOT_GIVEN) -> AsyncPager[t.Campaign]:
        return AsyncPager(
            self._client,
            Op("listCampaigns", "GET", "/campaigns", page_parser(t.Campaign.from_dict), params=_query(limit=limit)),
        )

    @operation("getCampaign")
    async def retrieve(self, campaign_id: str) -> t.Campaign:
        """The campaign with its live counts."""
        return await self._client._request(
            Op("getCampaign", "GET", path("/campaigns/{id}", id=campaign_id), parse_model(t.Campaign.from_dict))
        )

    @operation("listCampaignRecipients")
    def list_recipients(
        self,
        campaign_id: str,
        *,
        status: Union[str, NotGiven] = NOT_GIVEN,
        limit: Union[int, NotGiven] = NOT_GIVEN,
    ) -> AsyncPager[t.CampaignRecipient]:
        return AsyncPager(
            self._client,
            Op(
                "listCampaignRecipients",
                "GET",
                path("/campaigns/{id}/recipients", id=campaign_id),
                page_parser(t.CampaignRecipient.from_dict),
                params=_query(status=status, limit=limit),
            ),
        )

    @operation("pauseCampaign")
    async def pause(self, campaign_id: str) -> t.Campaign:
        return await self._client._request(
            Op("pauseCampaign", "POST", path("/campaigns/{id}/pause", id=campaign_id), parse_model(t.Campaign.from_dict))
        )

    @operation("resumeCampaign")
    async def resume(self, campaign_id: str) -> t.Campaign:
        return await self._client._request(
            Op("resumeCampaign", "POST", path("/campaigns/{id}/resume", id=campaign_id), parse_model(t.Campaign.from_dict))
        )

    @operation("cancelCampaign")
    async def cancel(self, campaign_id: str) -> t.Campaign:
        return await self._client._request(
            Op("cancelCampaign", "POST", path("/campaigns/{id}/cancel", id=campaign_id), parse_model(t.Campaign.from_dict))
        )


class AsyncShopify(_Resource):
    @operation("putShopifyIntegration")
    async def configure(
        self,
        *,
        shop_domain: str,
        webhook_secret: Union[str, None, NotGiven] = NOT_GIVEN,
        topics: Union[Mapping[str, t.IntegrationTriggerInput], None, NotGiven] = NOT_GIVEN,
        contact: Union[t.IntegrationContactInput, None, NotGiven] = NOT_GIVEN,
    ) -> t.Integration:
        """Order notifications for a Shopify shop (topics left out keep their
        defaults)."""
        return await self._client._request(
            Op(
                "putShopifyIntegration",
                "PUT",
                "/integrations/shopify",
                parse_model(t.Integration.from_dict),
                json=body(shop_domain=shop_domain, webhook_secret=webhook_secret, topics=topics, contact=contact),
            )
        )

    @operation("getShopifyIntegration")
    async def retrieve(self) -> t.Integration:
        return await self._client._request(
            Op("getShopifyIntegration", "GET", "/integrations/shopify", parse_model(t.Integration.from_dict))
        )

    @operation("deleteShopifyIntegration")
    async def delete(self) -> None:
        await self._client._request(Op("deleteShopifyIntegration", "DELETE", "/integrations/shopify", parse_none))


class AsyncWooCommerce(_Resource):
    @operation("putWooCommerceIntegration")
    async def configure(
        self,
        *,
        site_url: str,
        webhook_secret: Union[str, None, NotGiven] = NOT_GIVEN,
        statuses: Union[Mapping[str, t.IntegrationTriggerInput], None, NotGiven] = NOT_GIVEN,
        contact: Union[t.IntegrationContactInput, None, NotGiven] = NOT_GIVEN,
    ) -> t.Integration:
        """Order notifications for a WooCommerce store, per order status."""
        return await self._client._request(
            Op(
                "putWooCommerceIntegration",
                "PUT",
                "/integrations/woocommerce",
                parse_model(t.Integration.from_dict),
                json=body(site_url=site_url, webhook_secret=webhook_secret, statuses=statuses, contact=contact),
            )
        )

    @operation("getWooCommerceIntegration")
    async def retrieve(self) -> t.Integration:
        return await self._client._request(
            Op("getWooCommerceIntegration", "GET", "/integrations/woocommerce", parse_model(t.Integration.from_dict))
        )

    @operation("deleteWooCommerceIntegration")
    async def delete(self) -> None:
        await self._client._request(
            Op("deleteWooCommerceIntegration", "DELETE", "/integrations/woocommerce", parse_none)
        )


class AsyncHubSpot(_Resource):
    @operation("putHubSpotIntegration")
    async def configure(
        self,
        *,
        portal_id: str,
        access_token: Union[str, None, NotGiven] = NOT_GIVEN,
        client_secret: Union[str, None, NotGiven] = NOT_GIVEN,
        sync: Union[t.HubSpotSync, None, NotGiven] = NOT_GIVEN,
    ) -> t.CrmIntegration:
        """HubSpot contacts into PyTake and back, notes for resolved
        conversations (credentials required the first time, kept after)."""
        return await self._client._request(
            Op(
                "putHubSpotIntegration",
                "PUT",
                "/integrations/hubspot",
                parse_model(t.CrmIntegration.from_dict),
                json=body(portal_id=portal_id, access_token=access_token, client_secret=client_secret, sync=sync),
            )
        )

    @operation("getHubSpotIntegration")
    async def retrieve(self) -> t.CrmIntegration:
        return await self._client._request(
            Op("getHubSpotIntegration", "GET", "/integrations/hubspot", parse_model(t.CrmIntegration.from_dict))
        )

    @operation("deleteHubSpotIntegration")
    async def delete(self) -> None:
        await self._client._request(Op("deleteHubSpotIntegration", "DELETE", "/integrations/hubspot", parse_none))


class AsyncSalesforce(_Resource):
    @operation("putSalesforceIntegration")
    async def configure(
        self,
        *,
        login_url: str,
        client_id: str,
        client_secret: Union[str, None, NotGiven] = NOT_GIVEN,
        lead: Union[t.SalesforceLeadDefaults, None, NotGiven] = NOT_GIVEN,
        tasks: Union[bool, None, NotGiven] = NOT_GIVEN,
    ) -> t.CrmIntegration:
        """A Lead per new WhatsApp contact and a Task per resolved
        conversation, through a connected app (client credentials flow)."""
        return await self._client._request(
            Op(
                "putSalesforceIntegration",
                "PUT",
                "/integrations/salesforce",
                parse_model(t.CrmIntegration.from_dict),
                json=body(login_url=login_url, client_id=client_id, client_secret=client_secret, lead=lead, tasks=tasks),
            )
        )

    @operation("getSalesforceIntegration")
    async def retrieve(self) -> t.CrmIntegration:
        return await self._client._request(
            Op("getSalesforceIntegration", "GET", "/integrations/salesforce", parse_model(t.CrmIntegration.from_dict))
        )

    @operation("deleteSalesforceIntegration")
    async def delete(self) -> None:
        await self._client._request(
            Op("deleteSalesforceIntegration", "DELETE", "/integrations/salesforce", parse_none)
        )


class AsyncIntegrations:
    def __init__(self, client: AsyncPyTake) -> None:
        self.shopify = AsyncShopify(client)
        self.woocommerce = AsyncWooCommerce(client)
        self.hubspot = AsyncHubSpot(client)
        self.salesforce = AsyncSalesforce(client)


class AsyncHooks(_Resource):
    """Zapier's REST hooks (what the Zapier app calls)."""

    @operation("subscribeZapierHook")
    async def subscribe(self, *, url: str, event: str) -> t.ZapierHook:
        return await self._client._request(
            Op("subscribeZapierHook", "POST", "/hooks", parse_model(t.ZapierHook.from_dict), json={"hookUrl": url, "event": event})
        )

    @operation("unsubscribeZapierHook")
    async def unsubscribe(self, hook_id: str) -> None:
        await self._client._request(
            Op("unsubscribeZapierHook", "DELETE", path("/hooks/{id}", id=hook_id), parse_none)
        )

    @operation("listZapierHookSamples")
    async def samples(self, event: str) -> List[t.Event]:
        """The organisation's latest real events of a kind, newest first."""
        raw: Any = await self._client._request(
            Op("listZapierHookSamples", "GET", path("/hooks/samples/{event}", event=event), json_of)
        )
        return [t.Event.from_dict(x) for x in raw]
