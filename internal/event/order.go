package event

import "github.com/pytake/pytake/internal/store"

// OrderView is an e-commerce order as order.* events show it. Ids and
// amounts are strings, exactly as the platform sent them.
type OrderView struct {
	ID             string `json:"id"`
	Number         string `json:"number"`
	Name           string `json:"name"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status,omitempty"`
	Total          string `json:"total"`
	Currency       string `json:"currency"`
	CreatedAt      string `json:"created_at,omitempty"` // as the platform sent it
}

// Notification outcomes of an order trigger.
const (
	NotificationQueued   = "queued"   // the message was accepted and queued (message_id)
	NotificationDisabled = "disabled" // no message is configured (or enabled) for this topic or status
	NotificationNoPhone  = "no_phone" // the order has no usable phone
	NotificationRefused  = "refused"  // the message was refused (reason: outside_customer_service_window, ...)
)

// OrderNotification says what was sent for the order.
type OrderNotification struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// OrderData is the data of order.created and order.updated.
type OrderData struct {
	Platform     string            `json:"platform"` // shopify | woocommerce
	Topic        string            `json:"topic"`    // the platform's webhook topic
	Order        OrderView         `json:"order"`
	Contact      *ContactView      `json:"contact"`      // null without a usable phone
	PhoneSource  string            `json:"phone_source"` // e.g. billing_address.phone, or "none"
	MessageID    *string           `json:"message_id"`
	Notification OrderNotification `json:"notification"`
}

func orderSample(c store.Contact, prev, topic string) OrderData {
	v := ViewContact(c)
	v.Tags = []string{"customer", "purchased"}
	v.Attributes = map[string]any{"last_purchase": "2026-11-30", "total_spent": 398, "total_spent_decimal": "398.00", "total_spent_currency": "BRL"}
	msg := "msg_01JBZ5K7Q3XW8Y2N4M6P9R1T41"
	if prev != "" {
		return OrderData{Platform: "woocommerce", Topic: topic, Contact: &v, PhoneSource: "billing.phone", MessageID: &msg,
			Order:        OrderView{ID: "727", Number: "727", Name: "#727", Status: "completed", PreviousStatus: prev, Total: "29.35", Currency: "BRL", CreatedAt: "2026-11-29T16:28:02"},
			Notification: OrderNotification{Status: NotificationQueued}}
	}
	return OrderData{Platform: "shopify", Topic: topic, Contact: &v, PhoneSource: "customer.phone", MessageID: &msg,
		Order:        OrderView{ID: "820982911946154508", Number: "1234", Name: "#1234", Status: "", Total: "398.00", Currency: "BRL", CreatedAt: "2026-11-30T10:00:00-03:00"},
		Notification: OrderNotification{Status: NotificationQueued}}
}
