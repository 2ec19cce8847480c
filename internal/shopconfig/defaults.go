package shopconfig

// DefaultTags are set on a customer's contact unless the settings say
// otherwise.
var DefaultTags = []string{"customer", "purchased"}

// Defaults: orders/create sends the order_confirmation template (pt_BR)
// with the order number and the total; fulfilled and cancelled are off
// (a text only reaches customers who wrote in the last 24 hours; use an
// approved template to turn them on), with a suggested text kept for
// "enabled": true; WooCommerce's completed sends the completion text.
func defaultTrigger(platform, key string) (Trigger, bool) {
	switch platform + " " + key {
	case Shopify + " " + TopicOrdersCreate:
		return Trigger{Enabled: true, Message: &Message{Type: "template", Template: &Template{
			Name: "order_confirmation", Language: Language{Code: "pt_BR"},
			Parameters: []string{"{{order_number}}", "{{total_price}} {{currency}}"},
		}}}, true
	case Shopify + " " + TopicOrdersFulfilled:
		return Trigger{Enabled: false, Message: &Message{Type: "text", Text: "Seu pedido {{order_name}} foi enviado! Obrigado pela compra."}}, true
	case Shopify + " " + TopicOrdersCancelled:
		return Trigger{Enabled: false, Message: &Message{Type: "text", Text: "Seu pedido {{order_name}} foi cancelado. Se tiver dúvidas, responda esta mensagem."}}, true
	case WooCommerce + " completed":
		return Trigger{Enabled: true, Message: &Message{Type: "text", Text: "Seu pedido #{{number}} foi concluído!"}}, true
	}
	return Trigger{}, false
}

func defaultKeys(platform string) []string {
	if platform == Shopify {
		return ShopifyTopics
	}
	return []string{"completed"}
}
