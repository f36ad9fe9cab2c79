// Package activity is what a person sees of their own account's use in the
// user center (登录设备与记录): their live sessions, and their history of
// sign-ins and security events read back from the audit log.
//
// Both are described the same way: the browser and device from the stored
// user agent (ParseUserAgent, a small parser for the browsers people here
// use, WeChat, Alipay, QQ, 360 and Sogou among them), and a coarse place
// from the address (PlaceOf). unid has no geolocation database, and a
// government intranet could not update one: the place says only "this
// machine", "an internal network", or the public address with its last
// part hidden (203.0.113.*). The raw user agent is never shown.
//
// The session list and its "sign out" actions belong to session.Manager
// (ListUser, EndSID, EndOthers); History decides which audit events are a
// person's history.
package activity
