package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// Chatbot is a stored bot: its definition (name, welcome message, rules,
// fallback; see internal/chatbot) is kept as the JSON the API validated.
// At most one bot of an organisation is active: an ACTIVEBOT item names it.
type Chatbot struct {
	ID         string
	OrgID      string
	Name       string
	Active     bool
	Definition json.RawMessage
	Version    int // optimistic concurrency for SaveChatbot
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type chatbotItem struct {
	key
	Type       string `dynamodbav:"type"`
	ID         string `dynamodbav:"id"`
	OrgID      string `dynamodbav:"org_id"`
	Name       string `dynamodbav:"name"`
	Active     bool   `dynamodbav:"active"`
	Definition string `dynamodbav:"definition"`
	Version    int    `dynamodbav:"version"`
	CreatedAt  string `dynamodbav:"created_at"`
	UpdatedAt  string `dynamodbav:"updated_at"`
}

func (it chatbotItem) model() Chatbot {
	return Chatbot{ID: it.ID, OrgID: it.OrgID, Name: it.Name, Active: it.Active, Definition: json.RawMessage(it.Definition),
		Version: it.Version, CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt)}
}

type activeBotItem struct {
	key
	Type  string `dynamodbav:"type"`
	BotID string `dynamodbav:"bot_id"`
}

func (s *Store) chatbotPut(c Chatbot, condition string) (types.TransactWriteItem, error) {
	av, err := marshal(chatbotItem{key: key{orgPK(c.OrgID), chatbotSK(c.ID)}, Type: typeChatbot, ID: c.ID, OrgID: c.OrgID,
		Name: c.Name, Active: c.Active, Definition: string(c.Definition), Version: c.Version,
		CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt)})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return s.put(av, condition), nil
}

// claimActive makes c the organisation's active bot unless another is.
func (s *Store) claimActive(c Chatbot) (types.TransactWriteItem, error) {
	av, err := marshal(activeBotItem{key: key{orgPK(c.OrgID), activeBotSK()}, Type: typeActiveBot, BotID: c.ID})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := s.put(av, "attribute_not_exists(pk) OR bot_id = :id")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":id": str(c.ID)}
	return p, nil
}

// releaseActive removes the active-bot item if it names id.
func (s *Store) releaseActive(org, botID string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: key{orgPK(org), activeBotSK()}.av(),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR bot_id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(botID)},
	}}
}

// activeConflict names the bot that holds the organisation's active slot.
func (s *Store) activeConflict(ctx context.Context, org string) error {
	var it activeBotItem
	found, err := s.getItem(ctx, key{orgPK(org), activeBotSK()}, &it)
	msg := "another chatbot is active; deactivate it first"
	if err == nil && found {
		msg = fmt.Sprintf("chatbot %s is active; deactivate it first (one active chatbot per organization)", it.BotID)
	}
	return conditionErr(apperr.Conflict, msg).WithCode("active_chatbot_exists")
}

// CreateChatbot stores a new bot; an active one also takes the
// organisation's active slot, in the same transaction.
func (s *Store) CreateChatbot(ctx context.Context, c Chatbot) (Chatbot, error) {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.Version = id.New(id.Chatbot, now), now, now, 1
	bot, err := s.chatbotPut(c, "attribute_not_exists(pk)")
	if err != nil {
		return Chatbot{}, err
	}
	items := []types.TransactWriteItem{bot}
	if c.Active {
		claim, err := s.claimActive(c)
		if err != nil {
			return Chatbot{}, err
		}
		items = append(items, claim)
	}
	err = s.transact(ctx, "create chatbot", items, func(failed []bool) error {
		if len(failed) > 1 && failed[1] {
			return s.activeConflict(ctx, c.OrgID)
		}
		return conditionErr(apperr.Conflict, "chatbot id collision, retry")
	})
	if err != nil {
		return Chatbot{}, err
	}
	return c, nil
}

// Chatbot reads one bot of an organisation.
func (s *Store) Chatbot(ctx context.Context, org, botID string) (Chatbot, error) {
	return getModel[chatbotItem](ctx, s, key{orgPK(org), chatbotSK(botID)}, apperr.New(apperr.NotFound, "chatbot not found"))
}

// Chatbots lists one page of an organisation's bots, oldest first.
func (s *Store) Chatbots(ctx context.Context, org, cursor string, limit int) (Page[Chatbot], error) {
	return queryModels[chatbotItem](ctx, s, keyPrefix("", orgPK(org), chatbotSKPrefix, cursor, limit, true), nil)
}

// SaveChatbot replaces a bot read at c.Version (Conflict if it changed in
// between) and moves the active slot with it: activating takes the slot
// (Conflict when another bot holds it), deactivating gives it back.
func (s *Store) SaveChatbot(ctx context.Context, c Chatbot, wasActive bool) (Chatbot, error) {
	read := c.Version
	c.Version, c.UpdatedAt = read+1, s.now()
	bot, err := s.chatbotPut(c, "attribute_exists(pk) AND version = :v")
	if err != nil {
		return Chatbot{}, err
	}
	bot.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(strconv.Itoa(read))}
	items := []types.TransactWriteItem{bot}
	switch {
	case c.Active:
		claim, err := s.claimActive(c)
		if err != nil {
			return Chatbot{}, err
		}
		items = append(items, claim)
	case wasActive:
		items = append(items, s.releaseActive(c.OrgID, c.ID))
	}
	err = s.transact(ctx, "save chatbot", items, func(failed []bool) error {
		if failed[0] {
			return conditionErr(apperr.Conflict, "the chatbot changed while it was being saved; read it and try again").WithCode("edit_conflict")
		}
		return s.activeConflict(ctx, c.OrgID)
	})
	if err != nil {
		return Chatbot{}, err
	}
	return c, nil
}

// DeleteChatbot removes a bot and, if it was active, the active slot, in
// one transaction conditional on the bot being as read.
func (s *Store) DeleteChatbot(ctx context.Context, org, botID string) error {
	c, err := s.Chatbot(ctx, org, botID)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: key{orgPK(org), chatbotSK(botID)}.av(),
		ConditionExpression:       aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(strconv.Itoa(c.Version))},
	}}}
	if c.Active {
		items = append(items, s.releaseActive(org, botID))
	}
	return s.transact(ctx, "delete chatbot", items, func([]bool) error {
		return conditionErr(apperr.Conflict, "the chatbot changed while it was being deleted; try again").WithCode("edit_conflict")
	})
}

// ActiveChatbot is the organisation's active bot (NotFound when none).
func (s *Store) ActiveChatbot(ctx context.Context, org string) (Chatbot, error) {
	var it activeBotItem
	found, err := s.getItem(ctx, key{orgPK(org), activeBotSK()}, &it)
	if err != nil {
		return Chatbot{}, err
	}
	if !found {
		return Chatbot{}, apperr.New(apperr.NotFound, "no active chatbot")
	}
	return s.Chatbot(ctx, org, it.BotID)
}
