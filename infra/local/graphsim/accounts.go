package graphsim

// AddAccount makes the simulator serve one more business number (tests give
// a second organisation its own number this way). The first configured
// account stays the default of Inbound calls without a phone number id.
func (s *Sim) AddAccount(a Account) {
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	s.accounts[a.PhoneNumberID] = a
	if a.AccessToken != "" {
		s.tokens[a.AccessToken] = true
	}
}
