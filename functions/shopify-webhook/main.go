// Command shopify-webhook receives Shopify's order webhooks (POST /webhooks/shopify).
// It only wires dependencies; the logic is in internal/shophook.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/shophook"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "shopify-webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	hook, err := shophook.FromAWS(cfg, os.Getenv, logctx.Lambda())
	if err != nil {
		return err
	}
	lambda.StartWithOptions(hook.ShopifyRouter().Serve, lambda.WithContext(ctx))
	return nil
}
