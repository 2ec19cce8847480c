// Package cost measures what a message costs in AWS requests: its test
// runs the real handlers in process (the API, the sender, the WhatsApp
// webhook, the dispatcher with the chatbot) over a real DynamoDB API
// (minidyn) and counting fakes of SQS, SNS and Secrets Manager, and holds
// the counts per message to the bounds the README's cost model uses.
package cost
