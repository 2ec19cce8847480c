// Package faultsuite is the fault suite of issue 13 (its code is all in
// tests): each path of PyTake (an inbound message, a chatbot reply, a
// Shopify order, an inbound status, a status that beats the sender to the
// wamid, a send, a send Meta refuses, and the REST routes that emit events)
// runs against the real store (minidyn), the real API router, outbox
// relay, sender, dispatcher and webhook handlers, the table's stream of
// committed outbox items (storetest.Stream), an in-memory SQS and a
// simulated Meta, with one fault injected at one of its DynamoDB, stream,
// SQS, Graph or webhook-endpoint calls:
// the call fails without effect ("error"), takes effect but answers an
// error ("lost answer": a timeout after the write landed, or Meta
// accepting a message whose answer never arrives), or takes effect and the
// invocation stops there ("crash"). The platform's retries then run as
// Lambda, SQS and Meta run them: the webhook is redelivered until it is
// answered 200 (an API call until answered below 500), a stream batch
// comes back whole after a crash and from the record the relay named
// otherwise, an SQS batch comes back whole after a crash and its
// reported failures after an answer, up to maxReceiveCount and then into
// the dead-letter queue, whose consumers run too; time moves on a minute
// a round so leases expire and bounds pass.
//
// After every run it checks that each event the path promises reached the
// subscriber exactly once by id, that every outbound message ended in a
// final state (sent, delivered, read or failed), and that Meta accepted no
// message twice. TestFaultSuite prints the figure (fault points × paths
// tried; events lost, events duplicated, messages stuck, double sends)
// that the README reports.
package faultsuite
