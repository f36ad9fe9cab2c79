// Package notify owns how unid reaches people outside the browser: text
// messages and email. Domain code builds an SMS (a template name and its
// params) and hands it to an SMSSender, or asks a Mailer to mail a template
// in the language of the request (i18n.FromContext); which sender runs is
// configuration:
//
//   - Outbox, in dev mode, sends nothing and keeps the last 200 messages
//     and mails for GET /dev/outbox.json, so that codes can be read on a
//     laptop or in tests;
//   - HTTPGateway POSTs each message to an SMS gateway that the deployment
//     runs in front of its carrier (China Mobile 云MAS, Alibaba Cloud SMS,
//     Tencent Cloud SMS, a provincial platform, ...). The protocol below is
//     all such a gateway needs to implement;
//   - SMTPSender hands each mail to the configured mail server (config
//     section smtp): implicit TLS, required STARTTLS, or none on loopback,
//     with authentication when a user name is set. Every mail is plain text
//     with an HTML alternative, its wording from the message catalog
//     (mail.<template>.subject / .body), its subject naming the platform.
//     Like SMS, a mail is tried once: a server that is down or refuses it
//     is "email_unavailable", and the caller withdraws the code it carried.
//
// # SMS gateway protocol (version 1)
//
// unid sends one HTTP request per message:
//
//	POST <gateway URL>
//	Content-Type: application/json
//	X-Unid-Timestamp: 1767225600
//	X-Unid-Signature: v1=5d41402abc4b2a76b9719d911017c592...
//	Idempotency-Key: 9f86d081884c7d659a2feaa0c55ad015
//
//	{"id":"9f86d081884c7d659a2feaa0c55ad015","phone":"13812345678",
//	 "template":"sms_code","params":{"code":"123456","minutes":"5"},
//	 "text":"【统一身份认证】您的验证码为123456，5分钟内有效，请勿泄露给他人。",
//	 "timestamp":1767225600}
//
// Body fields:
//
//	id         random message id (32 hex digits); equal to Idempotency-Key
//	phone      mainland mobile number, 11 digits, no country code
//	template   wording name; "sms_code" (params "code", "minutes") today
//	params     the values filled into the template, all strings
//	text       the complete text, signature 【统一身份认证】 included, for
//	           gateways that send free text; gateways whose carrier wants a
//	           registered template id map "template" and "params" instead
//	timestamp  Unix time in seconds, equal to X-Unid-Timestamp
//
// Signature: X-Unid-Signature is "v1=" followed by the lower-case hex
// HMAC-SHA256, keyed with the shared secret, of the bytes
//
//	<X-Unid-Timestamp value> "." <request body exactly as received>
//
// A gateway must check it in constant time (VerifyGatewaySignature does),
// refuse a timestamp more than five minutes from its own clock, and refuse
// an id it has already accepted. A later unid may list several signatures
// separated by commas (during a key change); accept the request when any v1
// entry is valid.
//
// Answer: any 2xx status means the gateway accepted the message; its body is
// ignored. Any other status, a redirect, a broken connection or no answer
// within the configured timeout is a failure: unid tells the user that SMS
// is unavailable and withdraws the code.
//
// unid never retries a message — not even on a broken connection — because
// a second attempt could reach the user as a second text. A gateway that
// retries towards its carrier must deduplicate by id.
//
// Logs and errors never contain a message's text, params or the gateway's
// answer, as they may hold a code.
package notify
