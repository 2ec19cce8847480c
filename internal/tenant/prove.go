package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
)

// Meta is the part of the Graph API that proves a number is the caller's.
type Meta interface {
	GetPhoneNumber(ctx context.Context, version, phoneNumberID, token string) (graph.PhoneNumber, error)
	PhoneNumbersOfWABA(ctx context.Context, version, wabaID, token string) ([]string, error)
}

// ProveWhatsApp asks Meta, with the settings' own access token, whether
// the number is theirs before anything is claimed: the token must be able to
// read the phone number id (GET /{phone_number_id}), and when a WABA is
// named the number must be one of its numbers (GET /{waba_id}/phone_numbers).
// Claims are first come, first served, so without this anyone could hold
// another business's number. A refusal is 422 whatsapp_ownership_not_proven
// naming the field and quoting Meta; Meta unreachable is 502. It answers
// what Meta says of the number (its display_phone_number gives the
// organisation its default country).
func ProveWhatsApp(ctx context.Context, meta Meta, defaultVersion string, c secrets.WhatsApp) (graph.PhoneNumber, error) {
	version := c.GraphAPIVersion
	if version == "" {
		version = defaultVersion
	}
	notProven := func(field, issue string) error {
		return apperr.New(apperr.Unprocessable, "Meta did not confirm that these credentials own this WhatsApp number").
			WithCode("whatsapp_ownership_not_proven").WithDetails(apperr.Detail{Field: field, Issue: issue})
	}
	num, err := meta.GetPhoneNumber(ctx, version, c.PhoneNumberID, c.AccessToken)
	if err != nil {
		if ge := graphError(err); ge != nil {
			return graph.PhoneNumber{}, notProven("phone_number_id", fmt.Sprintf("access_token cannot read this phone number id (Meta error %d: %s)", ge.Code, ge.Message))
		}
		return graph.PhoneNumber{}, unreachable(err)
	}
	if c.WABAID == "" {
		return num, nil
	}
	ids, err := meta.PhoneNumbersOfWABA(ctx, version, c.WABAID, c.AccessToken)
	if err != nil {
		if ge := graphError(err); ge != nil {
			return graph.PhoneNumber{}, notProven("waba_id", fmt.Sprintf("access_token cannot read this WhatsApp Business Account (Meta error %d: %s)", ge.Code, ge.Message))
		}
		return graph.PhoneNumber{}, unreachable(err)
	}
	if !slices.Contains(ids, c.PhoneNumberID) {
		return graph.PhoneNumber{}, notProven("waba_id", "phone_number_id is not one of this WhatsApp Business Account's numbers, according to Meta")
	}
	return num, nil
}

func graphError(err error) *graph.Error {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge
	}
	return nil
}

func unreachable(err error) error {
	return apperr.New(apperr.BadGateway, "the Graph API could not be reached to confirm the number; retry").
		WithCode("graph_unreachable").WithCause(err)
}
