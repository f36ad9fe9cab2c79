package notify

import (
	"context"
	"strings"
	"time"
)

// SMS is one text message to a phone. Template names the wording and Params
// fill it in; the wording lives here, in one table, because an SMS gateway
// that forwards to a carrier needs the final text, and operators of such
// gateways usually have to register every wording with the carrier.
type SMS struct {
	Phone    string            // normalised phone number, e.g. "13812345678"
	Template string            // e.g. TemplateSMSCode
	Params   map[string]string // e.g. {"code": "123456", "minutes": "5"}
	// Signature is the 短信签名 without 【】, the platform's name as the
	// carrier registered it; empty: DefaultSignature. Signed sets it.
	Signature string
}

// DefaultSignature is the signature of a platform that configured none.
const DefaultSignature = "统一身份认证"

// Signed returns a sender that signs every message with signature (the
// platform's configured name) before s sends it.
func Signed(s SMSSender, signature string) SMSSender {
	if s == nil || signature == "" {
		return s
	}
	return signedSender{s, signature}
}

type signedSender struct {
	next      SMSSender
	signature string
}

func (s signedSender) SendSMS(ctx context.Context, m SMS) error {
	m.Signature = s.signature
	return s.next.SendSMS(ctx, m)
}

// SMS templates.
const (
	// TemplateSMSCode carries a verification code; params "code", "minutes".
	TemplateSMSCode = "sms_code"
	// TemplatePasswordChanged tells the owner that the account's password
	// was changed and every device signed out; no params. It names no
	// secret and no account detail, since a phone number may change hands.
	TemplatePasswordChanged = "password_changed"
	// TemplateAccountLocked tells the owner that repeated wrong passwords
	// locked the account, when the lock ends and that password recovery
	// lifts it; param "until" (SMSTime). Like TemplatePasswordChanged it
	// names no secret, no account detail and not where the attempts came
	// from.
	TemplateAccountLocked = "account_locked"
	// TemplatePasswordChangedOthersOut tells the owner that the password
	// was changed in the user center and every other device signed out;
	// no params.
	TemplatePasswordChangedOthersOut = "password_changed_others_out"
	// TemplatePasswordChangedKept tells the owner that the password was
	// changed in the user center, with the other devices left signed in;
	// no params.
	TemplatePasswordChangedKept = "password_changed_kept"
	// TemplatePasswordChangedSessionsRemain tells the owner that the
	// password was changed but that not every other device or service
	// system could be signed out, and what to do; no params.
	TemplatePasswordChangedSessionsRemain = "password_changed_sessions_remain"
	// TemplatePasswordSet tells the owner of an account made through an
	// identity provider that it now has a password too: a new way in.
	TemplatePasswordSet = "password_set"
	// TemplatePhoneChanged goes to the old number of an account that was
	// bound to a new one; no params. It names neither the account nor the
	// new number.
	TemplatePhoneChanged = "phone_changed"
	// TemplateQuestionsUsed tells the owner that someone answered the
	// account's security questions to recover its password, right or
	// wrong; no params.
	TemplateQuestionsUsed = "questions_used"
	// TemplateQuestionsSet tells the owner that the account's security
	// questions were set or changed; no params.
	TemplateQuestionsSet = "questions_set"
	// TemplateAccountClosed tells the owner that the account was closed
	// (注销) and every device and service system signed out; no params.
	TemplateAccountClosed = "account_closed"
	// TemplateRealnameApproved tells the owner that a reviewer approved
	// their real-name request (a counter verification or an appeal).
	TemplateRealnameApproved = "realname_approved"
	// TemplateRealnameRejected tells the owner that a reviewer did not.
	TemplateRealnameRejected = "realname_rejected"
	// TemplateRealnameMovedAway tells the owner that the verification of
	// the account's ID number moved to another account after an appeal.
	TemplateRealnameMovedAway = "realname_moved_away"
	// TemplateRealnameCorrected tells the owner that a reviewer corrected
	// the account's name or ID number, which removed the verifications
	// above level 1.
	TemplateRealnameCorrected = "realname_corrected"
	// The enterprise space's events (enterprise.Event…), no params: the
	// message in the personal space names the enterprise.
	TemplateEnterpriseGrant               = "enterprise_grant"
	TemplateEnterpriseApplicationApproved = "enterprise_application_approved"
	TemplateEnterpriseApplicationRejected = "enterprise_application_rejected"
	TemplateEnterpriseAppealApproved      = "enterprise_appeal_approved"
	TemplateEnterpriseAppealRejected      = "enterprise_appeal_rejected"
	TemplateEnterpriseRoleRevoked         = "enterprise_role_revoked"
	TemplateEnterpriseUnbound             = "enterprise_unbound"
	// TemplateUpstreamLinked tells the owner that an Alipay or other
	// provider account can now sign in to theirs: a new way in.
	TemplateUpstreamLinked = "upstream_linked"
	// TemplateRecoveryHint is sent by a security administrator to a
	// citizen who called the hotline unable to sign in: where to recover
	// the password; no params. It names no account detail and asks for
	// nothing.
	TemplateRecoveryHint = "recovery_hint"
)

// smsTemplates maps a template name to its wording; {name} is replaced by
// the param of that name.
var smsTemplates = map[string]string{
	TemplateSMSCode:         "您的验证码为{code}，{minutes}分钟内有效，请勿泄露给他人。",
	TemplatePasswordChanged: "您的账号密码已修改，已登录的设备均已退出。如非本人操作，请立即找回密码或联系平台客服。",
	TemplateAccountLocked:   "您的账号因连续多次密码错误已被暂时锁定，将于{until}自动解锁。如需立即登录，请使用“找回密码”重设密码；如非本人操作，请留意账号安全。",

	// The user center's changes.
	TemplatePasswordChangedOthersOut:      "您的账号密码已修改，其他已登录的设备均已退出。如非本人操作，请立即找回密码或联系平台客服。",
	TemplatePasswordChangedKept:           "您的账号密码已修改。如非本人操作，请立即找回密码并退出其他设备，或联系平台客服。",
	TemplatePasswordChangedSessionsRemain: "您的账号密码已修改，但部分已登录的设备未能退出。请登录后在“登录设备与记录”中退出其他设备，或再次修改密码。如非本人操作，请立即找回密码或联系平台客服。",
	TemplatePasswordSet:                   "您的账号已设置登录密码，今后也可以用密码登录。如非本人操作，请立即找回密码，或联系平台客服。",
	TemplatePhoneChanged:                  "您的账号已改绑其他手机号码，本号码将不再用于登录和接收通知。如非本人操作，请立即联系平台客服。",
	TemplateQuestionsSet:                  "您的账号密保问题已设置或修改。密保问题可用于找回密码，如非本人操作，请立即修改密码并重新设置密保问题。",
	TemplateQuestionsUsed:                 "您的账号刚刚有人通过回答密保问题找回密码。如非本人操作，请立即修改密码，并留意账号安全。",
	TemplateRealnameApproved:              "您提交的实名认证申请已审核通过，请登录个人空间查看。",
	TemplateRealnameRejected:              "您提交的实名认证申请未通过审核，原因请登录个人空间查看。",
	TemplateRealnameMovedAway:             "经审核，您账号所用的身份证号码已由本人在另一账号完成实名认证，您账号的实名认证已解除。如有疑问，请联系平台客服。",
	TemplateRealnameCorrected:             "审核人员已更正您账号的实名信息，原有的中级、高级实名认证已解除，请登录个人空间查看。如有疑问，请联系平台客服。",
	TemplateEnterpriseGrant:               "您收到一项企业授权，请登录个人空间的“企业空间”确认接受或拒绝。",
	TemplateEnterpriseApplicationApproved: "您提交的企业办事授权申请已通过，请登录个人空间查看。",
	TemplateEnterpriseApplicationRejected: "您提交的企业办事授权申请未通过，原因请登录个人空间查看。",
	TemplateEnterpriseAppealApproved:      "您提交的企业法定代表人申诉已审核通过，请登录个人空间查看。",
	TemplateEnterpriseAppealRejected:      "您提交的企业法定代表人申诉未通过审核，请登录个人空间查看。",
	TemplateEnterpriseRoleRevoked:         "您的一项企业角色已解除，请登录个人空间查看。",
	TemplateEnterpriseUnbound:             "您所在的一家企业已解除绑定，您在该企业的角色随之解除。",
	TemplateUpstreamLinked:                "您的账号已绑定第三方账号（如支付宝），它今后可以登录您的账号。如非本人操作，请立即修改密码并在“账号绑定”中解除绑定。",
	TemplateRecoveryHint:                  "应您的来电请求：如无法登录，请在登录页点击“找回密码”，按提示验证身份后重设密码。工作人员不会向您索要密码或验证码。",
	TemplateAccountClosed:                 "您的账号已注销，已登录的设备和应用均已退出，个人信息已删除。如非本人操作，请立即联系平台客服。",
}

// chinaTime is the time zone SMS wording speaks: every phone the platform
// writes to is in China, which keeps one time zone (UTC+8, no daylight
// saving).
var chinaTime = time.FixedZone("CST", 8*60*60)

// SMSTime writes t for an SMS param, in China Standard Time, the way a
// person reads it in a message: "5月6日 15:23". It rounds up to the minute,
// so the time it says is never before t.
func SMSTime(t time.Time) string {
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		t = r.Add(time.Minute)
	}
	return t.In(chinaTime).Format("1月2日 15:04")
}

// Text renders the message as the phone will show it, or "" when the
// template is unknown.
func (m SMS) Text() string {
	t, ok := smsTemplates[m.Template]
	if !ok {
		return ""
	}
	pairs := make([]string, 0, 2*len(m.Params))
	for k, v := range m.Params {
		pairs = append(pairs, "{"+k+"}", v)
	}
	sig := m.Signature
	if sig == "" {
		sig = DefaultSignature
	}
	return "【" + sig + "】" + strings.NewReplacer(pairs...).Replace(t)
}

// SMSSender sends text messages. The dev Outbox and the HTTPGateway
// implement it.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}
