// Package alipay signs citizens in with Alipay (支付宝登录), the open
// platform's web and mobile-application authorization, behind
// upstream.Provider.
//
// # The flow
//
//	browser ──AuthURL──▶ publicAppAuthorize.htm?app_id&scope&redirect_uri&state
//	   ◀── redirect_uri?app_id&source=alipay_wallet&scope&auth_code&state ──┘
//	       (no auth_code: the person cancelled → upstream_cancelled)
//	unid ──alipay.system.oauth.token (grant_type=authorization_code, code)──▶ gateway.do
//	     ◀── access_token, open_id (user_id for older applications) ─────────┘
//	unid ──alipay.user.info.share (auth_token) ──▶ gateway.do   (not for auth_base)
//	     ◀── nick_name, avatar, is_certified ───────┘
//
// scope is auth_user, or auth_base when only the external subject is
// wanted (Auth.OnlyID): Alipay asks no consent for it and answers no user
// information. The auth_code is single use; the token call is never
// retried.
//
// # The wire
//
// Every call is a form-encoded POST to gateway.do with the common
// parameters app_id, method, format=JSON, charset=utf-8, sign_type=RSA2,
// timestamp ("2006-01-02 15:04:05", Beijing time) and version=1.0, plus
// app_cert_sn and alipay_root_cert_sn in certificate mode. sign is
// SHA256withRSA with the application's key over the parameters other than
// sign whose value is not empty, sorted by name, joined as k=v&k=v, values
// raw (SignContent).
//
// Alipay answers {"<method, dots as underscores>_response":{…},"sign":"…"}
// (or "error_response" for some errors). The signature is over the raw
// JSON text of that node, found as Alipay's official SDKs find it
// (SignSource; the Java SDK's JsonConverter and AlipaySignature): the
// first occurrence of the node's name, the object after it up to its
// matching brace, refused when the node's name occurs again after that
// object (a second node that a JSON decoder would read instead of the
// signed one). Only that signed text is decoded. An answer without a
// valid signature is refused (upstream_unverified), whatever it says.
//
// # Keys and certificates
//
// In public-key mode alipay.public-key is Alipay's public key. In
// certificate mode Alipay's key is taken from alipay.public-cert, whose
// chain must lead to a certificate of alipay.root-cert; requests carry
// app_cert_sn (of alipay.app-cert) and alipay_root_cert_sn, computed as
// the SDKs do (CertSN, RootCertSN).
//
// Package alipaydev is a fake gateway speaking the same wire, for
// development and tests.
package alipay
