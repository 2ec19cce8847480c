package stack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/pytake/pytake/infra/local/crmsim"
)

// Demo CRM credentials (the simulators' and the demo organisation's).
const (
	DemoHubSpotPortal      = "62515"
	DemoHubSpotAppID       = 54321
	DemoHubSpotToken       = "pat-na1-local-demo-hubspot-token"
	DemoHubSpotSecret      = "local-demo-hubspot-client-secret"
	DemoSalesforceClientID = "3MVG9local.demo.consumer.key"
	DemoSalesforceSecret   = "local-demo-salesforce-consumer-secret"
)

// startCRMs starts the HubSpot and Salesforce simulators on free ports,
// unless Config.HubSpotURL / Config.SalesforceURL name real ones.
func (s *Stack) startCRMs(ctx context.Context) error {
	s.HubSpotURL, s.SalesforceURL = s.cfg.HubSpotURL, s.cfg.SalesforceURL
	serve := func(name string, h http.Handler) (string, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("%s simulator: %w", name, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			_ = srv.Serve(l)
		}()
		return "http://" + l.Addr().String(), nil
	}
	if s.HubSpotURL == "" {
		var portal int64
		fmt.Sscan(DemoHubSpotPortal, &portal)
		s.HubSpotSim = crmsim.NewHubSpot(crmsim.HubSpotConfig{
			PortalID: portal, AppID: DemoHubSpotAppID, AccessToken: DemoHubSpotToken, ClientSecret: DemoHubSpotSecret,
			WebhookURL: s.URL + "/webhooks/hubspot", HTTPClient: &http.Client{Timeout: 2 * time.Minute},
		})
		u, err := serve("HubSpot", s.HubSpotSim)
		if err != nil {
			return err
		}
		s.HubSpotURL = u
	}
	if s.SalesforceURL == "" {
		s.SalesforceSim = crmsim.NewSalesforce(crmsim.SalesforceConfig{ClientID: DemoSalesforceClientID, ClientSecret: DemoSalesforceSecret})
		u, err := serve("Salesforce", s.SalesforceSim)
		if err != nil {
			return err
		}
		s.SalesforceSim.SetURL(u)
		s.SalesforceURL = u
	}
	return nil
}
