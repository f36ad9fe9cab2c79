package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"unid/internal/account"
	"unid/internal/audit"
	"unid/internal/store"
)

// benchPassword is the password of every seeded account.
const benchPassword = "Seed-Passw0rd-2026"

// Columns as COPY fills them.
var (
	userColumns = []string{"id", "login_name", "login_name_key", "password_hash",
		"phone_cipher", "phone_index", "id_number_cipher", "id_number_index",
		"email_cipher", "email_index", "real_name_cipher", "realname_level", "status",
		"created_at", "updated_at", "nickname_cipher", "work_unit_cipher", "closed_at"}
	auditColumns = []string{"seq", "time", "actor", "action", "result", "ip", "user_agent",
		"subject", "detail", "prev_hash", "hash", "account_id", "client_id"}
	statColumns = []string{"metric", "key", "hour", "count"}
)

// Spans of the seeded history, ending at the hour seeding starts.
const (
	day          = 24 * time.Hour
	accountsSpan = 5 * 365 * day // accounts were opened over five years
	auditSpan    = 2 * 365 * day // the audit log keeps two
	statsSpan    = 365 * day     // the dashboard counts one
)

// world makes the rows: accounts first (their IDs are kept for the audit
// log's actors), then events in order, carrying the hash chain.
type world struct {
	o        options
	prot     *account.Protector
	now      time.Time
	rng      *rand.Rand
	hash     string
	ids      []string
	phones   []string // masked, as events name them
	clients  []string
	links    bool     // audit events have account_id and client_id (schema 19 on)
	networks []string // "a.b.c." prefixes of /24 networks
	chain    struct {
		seq  int64
		hash []byte
	}
}

func newWorld(o options, prot *account.Protector, now time.Time) *world {
	w := &world{
		o: o, prot: prot, now: now,
		rng:    rand.New(rand.NewPCG(uint64(o.seed), 0x756e6964)),
		ids:    make([]string, o.accounts),
		phones: make([]string, o.accounts),
	}
	for i := range o.clients {
		w.clients = append(w.clients, clientName(i))
	}
	seen := map[string]bool{}
	for len(w.networks) < 3000 {
		a := firstOctets[w.rng.IntN(len(firstOctets))]
		n := fmt.Sprintf("%d.%d.%d.", a, w.rng.IntN(256), w.rng.IntN(256))
		if !seen[n] {
			seen[n] = true
			w.networks = append(w.networks, n)
		}
	}
	return w
}

// hashPassword computes the one argon2id hash all accounts share: hashing
// each would take hours and measure argon2, not the database.
func (w *world) hashPassword(ctx context.Context) error {
	h, err := account.NewHasher(account.DefaultParams(), 1).Hash(ctx, benchPassword)
	w.hash = h
	return err
}

// userRow returns account i. Accounts are opened in order of i over the
// five years before now, so that created_at grows with i.
func (w *world) userRow(i int) ([]any, error) {
	r := w.rng
	created := w.accountTime(i).Add(time.Duration(r.IntN(60_000)) * time.Millisecond)
	if created.After(w.now) {
		created = w.now
	}
	updated := created.Add(time.Duration(r.Int64N(int64(w.now.Sub(created))/int64(time.Millisecond)+1)) * time.Millisecond)
	if r.IntN(3) > 0 {
		updated = created
	}
	id := strings.ToLower(randText(r))
	w.ids[i] = id
	sur, given := r.IntN(len(surnames)), r.IntN(len(givenNames))
	login := loginName(r, sur, given, i)
	phone := phoneNumber(i)
	w.phones[i] = account.MaskPhone(phone)

	level := levelFor(r.IntN(100))
	status := store.UserActive
	switch n := r.IntN(1000); {
	case n < 10:
		status = store.UserClosed
	case n < 30:
		status = store.UserDisabled
	}
	var (
		phoneS, idS, emailS, nameS, nickS, workS store.Sealed
		closedAt                                 any
		err                                      error
	)
	if status == store.UserClosed {
		// A closed account keeps its row and login name; its personal
		// data is erased.
		level = 0
		closedAt = updated.UnixMilli()
	} else {
		if phoneS, err = w.prot.Seal(account.FieldPhone, phone); err != nil {
			return nil, err
		}
		// Verified accounts, and a fifth of the others, gave a name and
		// an ID number at registration.
		if level > 0 || r.IntN(5) == 0 {
			name := surnames[sur].han + givenNames[given].han
			if nameS, err = w.prot.Seal(account.FieldRealName, name); err != nil {
				return nil, err
			}
			nameS.Index = nil
			if idS, err = w.prot.Seal(account.FieldIDNumber, idNumber(i, w.now)); err != nil {
				return nil, err
			}
		}
		if r.IntN(4) == 0 {
			email := strings.ToLower(login) + "@" + mailDomains[r.IntN(len(mailDomains))]
			if emailS, err = w.prot.Seal(account.FieldEmail, email); err != nil {
				return nil, err
			}
		}
		if r.IntN(10) == 0 {
			if nickS, err = w.prot.Seal(account.FieldNickname, nicknames[r.IntN(len(nicknames))]); err != nil {
				return nil, err
			}
			nickS.Index = nil
		}
		if r.IntN(20) == 0 {
			if workS, err = w.prot.Seal(account.FieldWorkUnit, workUnits[r.IntN(len(workUnits))]); err != nil {
				return nil, err
			}
			workS.Index = nil
		}
	}
	return []any{
		id, login, account.LoginNameKey(login), w.hash,
		null(phoneS.Cipher), null(phoneS.Index), null(idS.Cipher), null(idS.Index),
		null(emailS.Cipher), null(emailS.Index), null(nameS.Cipher), level, status,
		created.UnixMilli(), updated.UnixMilli(), null(nickS.Cipher), null(workS.Cipher), closedAt,
	}, nil
}

// accountTime is when account i was opened, give or take a minute.
func (w *world) accountTime(i int) time.Time {
	return w.now.Add(-accountsSpan).Add(time.Duration(float64(accountsSpan) * float64(i) / float64(w.o.accounts)))
}

// opened is how many accounts had been opened at t.
func (w *world) opened(t time.Time) int {
	f := float64(t.Sub(w.now.Add(-accountsSpan))) / float64(accountsSpan)
	return max(1, min(w.o.accounts, int(f*float64(w.o.accounts))))
}

// levelFor spreads real-name levels: 30% none, 35% 初级, 25% 中级, 10% 高级.
func levelFor(p int) int {
	switch {
	case p < 30:
		return 0
	case p < 65:
		return 1
	case p < 90:
		return 2
	}
	return 3
}

func null(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// auditRow returns event seq i+1, chained to the one before. Events are
// spread evenly over the last two years.
func (w *world) auditRow(i int) ([]any, error) {
	r := w.rng
	t := w.now.Add(-auditSpan).Add(time.Duration(float64(auditSpan) * float64(i) / float64(w.o.audit))).Truncate(time.Millisecond)
	e := store.AuditEvent{
		Seq:       int64(i) + 1,
		Time:      t,
		IP:        w.networks[skewed(r, len(w.networks))] + strconv.Itoa(1+r.IntN(254)),
		UserAgent: userAgents[r.IntN(len(userAgents))],
		PrevHash:  w.chain.hash,
	}
	u := w.someAccount(t)
	switch p := r.IntN(1000); {
	case p < 330:
		e.Actor, e.Action, e.Result = w.ids[u], audit.ActionLogin, audit.ResultOK
		e.Subject = w.phones[u]
		e.Detail = detail("method", []string{"password", "sms", "alipay"}[r.IntN(3)])
	case p < 450:
		e.Action, e.Result = audit.ActionLoginFail, []string{"bad_password", "bad_password", "unknown_identifier", audit.ResultRateLimited}[r.IntN(4)]
		e.Subject = w.phones[u]
		if e.Result != "unknown_identifier" {
			e.Account = w.ids[u]
		}
	case p < 600:
		e.Action, e.Result, e.Subject = audit.ActionSMSSent, audit.ResultOK, w.phones[u]
		e.Detail = detail("purpose", []string{"login", "register", "recovery", "phone_change"}[r.IntN(4)])
		if r.IntN(2) == 0 {
			e.Actor = w.ids[u]
		}
	case p < 640:
		u = w.opened(t) - 1 - r.IntN(min(w.opened(t), 1000))
		e.Actor, e.Action, e.Result, e.Subject = w.ids[u], audit.ActionRegister, audit.ResultOK, w.phones[u]
	case p < 860:
		c := w.clients[skewed(r, len(w.clients))]
		e.Actor, e.Result, e.Client = w.ids[u], audit.ResultOK, c
		e.Action = []string{"oidc.token_issued", "oidc.token_issued", "cas.ticket_issued", "cas.ticket_validated", "oidc.consent_granted"}[r.IntN(5)]
		e.Detail = detail("client_id", c)
	case p < 940:
		e.Actor, e.Action, e.Result = w.ids[u], audit.ActionLogout, audit.ResultOK
		e.Detail = detail("via", []string{"user", "oidc", "cas", "expired"}[r.IntN(4)])
	case p < 975:
		e.Actor, e.Result = w.ids[u], audit.ResultOK
		e.Action = []string{"account.password_changed", "account.phone_changed", "account.profile_changed", "realname.bound", "address.created", "enterprise.bound"}[r.IntN(6)]
	case p < 990:
		op := "operator:" + operators[r.IntN(len(operators))]
		e.Actor, e.Account, e.Result, e.Subject = op, w.ids[u], audit.ResultOK, w.phones[u]
		e.Action = []string{"account.disabled", "account.enabled", "account.pii_revealed", "review.decided", "realname.corrected", "account.exported"}[r.IntN(6)]
		e.Detail = detail("reason", "工单核实")
	case p < 998:
		e.Actor = "operator:" + operators[r.IntN(len(operators))]
		e.Action, e.Result = "operator.sign_in", audit.ResultOK
		if r.IntN(10) == 0 {
			e.Action, e.Result, e.Actor = "operator.sign_in_failed", "bad_password", ""
		}
	default:
		e.Actor, e.Action, e.Result = "system", audit.ActionSMSBudget, audit.ResultOK
		e.IP, e.UserAgent = "", ""
	}
	if !w.links {
		// The release before the console named neither, and hashed
		// neither: the service system is in the detail alone.
		e.Account, e.Client = "", ""
	}
	e.Hash = audit.Hash(e)
	w.chain.seq, w.chain.hash = e.Seq, e.Hash
	return []any{e.Seq, t.UnixMilli(), e.Actor, e.Action, e.Result, e.IP, e.UserAgent,
		e.Subject, e.Detail, null(e.PrevHash), e.Hash, e.Account, e.Client}, nil
}

// someAccount picks an account open at t: a tenth of the time one of the
// busiest 1%, which sign in every day, otherwise anyone.
func (w *world) someAccount(t time.Time) int {
	n := w.opened(t)
	if w.rng.IntN(10) == 0 {
		return w.rng.IntN(max(1, n/100)) * 100 % n
	}
	return w.rng.IntN(n)
}

// skewed picks one of n with the first ones far more likely, as a few
// networks and service systems carry most of the traffic.
func skewed(r *rand.Rand, n int) int {
	f := r.Float64()
	return min(n-1, int(float64(n)*f*f*f))
}

func detail(k, v string) string {
	b, _ := json.Marshal(map[string]string{k: v})
	return string(b)
}

// statRows are the dashboard's counters for every hour of the last year:
// sign-ins by outcome, SSO sign-ins by service system, registrations,
// text messages and real-name checks by verifier, rising by day and
// falling by night.
func (w *world) statRows() [][]any {
	var rows [][]any
	start := w.now.Add(-statsSpan)
	for h := start; h.Before(w.now); h = h.Add(time.Hour) {
		load := dayCurve[h.Add(8*time.Hour).Hour()]
		n := func(base float64) int64 { return int64(base*load*(0.8+0.4*w.rng.Float64())) + 1 }
		ms := h.UnixMilli()
		rows = append(rows, []any{"signin", "ok", ms, n(4000)}, []any{"signin", "failed", ms, n(500)},
			[]any{"signin", "locked", ms, n(10)})
		for i, c := range w.clients {
			rows = append(rows, []any{"sso", c, ms, n(3000 / float64(i+1))})
		}
		rows = append(rows, []any{"register", "", ms, n(120)}, []any{"sms", "", ms, n(1500)},
			[]any{"realname", "ctid", ms, n(90)}, []any{"realname", "alipay", ms, n(40)})
	}
	return withDays(rows)
}

// dashboardZone is the operators' zone by default; the dashboard reads
// weeks and months from rows of its days.
var dashboardZone = time.FixedZone("CST", 8*60*60)

// withDays adds to hourly rows the daily ones the dashboard keeps beside
// them: metric "day:"+metric, the sum of the day's hours, Hour the day's
// start in dashboardZone.
func withDays(rows [][]any) [][]any {
	type slot struct {
		metric, key string
		day         int64
	}
	sums := map[slot]int64{}
	var order []slot
	for _, r := range rows {
		t := time.UnixMilli(r[2].(int64)).In(dashboardZone)
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, dashboardZone).UnixMilli()
		s := slot{"day:" + r[0].(string), r[1].(string), day}
		if _, ok := sums[s]; !ok {
			order = append(order, s)
		}
		sums[s] += r[3].(int64)
	}
	for _, s := range order {
		rows = append(rows, []any{s.metric, s.key, s.day, sums[s]})
	}
	return rows
}

// dayCurve is the traffic of each hour of the day in China, relative to
// the average.
var dayCurve = [24]float64{0.15, 0.08, 0.05, 0.04, 0.05, 0.1, 0.3, 0.7, 1.3, 1.8, 1.9, 1.7,
	1.2, 1.5, 1.8, 1.8, 1.6, 1.4, 1.1, 1.0, 1.0, 0.9, 0.6, 0.3}

// randText is rand.Text's shape (26 base32 characters) from r, fast
// enough for millions of IDs.
func randText(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [26]byte
	for i := range b {
		b[i] = alphabet[r.IntN(32)]
	}
	return string(b[:])
}

// phonePrefixes are mainland mobile prefixes.
var phonePrefixes = []string{"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"147", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "176",
	"177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199"}

// phoneNumber is the phone of account i: distinct for every i below 3.8
// billion, and scattered over the prefixes.
func phoneNumber(i int) string {
	p := len(phonePrefixes)
	return phonePrefixes[i%p] + fmt.Sprintf("%08d", (uint64(i/p)*7919+12345)%100_000_000)
}

// regions are administrative divisions of first registration: the
// province's own, and those that people moved in from.
var regions = []string{
	"330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113", "330114",
	"330122", "330127", "330182", "330203", "330205", "330206", "330211", "330212", "330281", "330282",
	"330302", "330303", "330304", "330381", "330382", "330402", "330411", "330481", "330502", "330503",
	"330602", "330603", "330604", "330681", "330702", "330703", "330782", "330802", "330902", "331002",
	"331102", "110101", "310101", "320102", "340102", "360102", "410102", "420102", "430102", "510104",
}

var birthFrom = time.Date(1945, 1, 1, 0, 0, 0, 0, time.UTC)

const birthDays = 23376 // to the end of 2008

// idNumber is the resident identity card number of account i: a region,
// a birth date from 1945 to 2008, a sequence number and the GB 11643
// check character, distinct for every i below the 1.17 billion
// combinations (1,000,003 is prime, so multiplying by it permutes them).
func idNumber(i int, now time.Time) string {
	k := uint64(len(regions)) * birthDays * 1000
	x := uint64(i) * 1_000_003 % k
	seq := x % 1000
	x /= 1000
	birth := birthFrom.AddDate(0, 0, int(x%birthDays))
	region := regions[x/birthDays]
	first17 := region + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	return first17 + string(checkChar(first17))
}

// idWeights and idCheckChars are GB 11643-1999's (ISO 7064 MOD 11-2).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

func checkChar(first17 string) byte {
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

type name struct{ han, pinyin string }

var surnames = []name{{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"},
	{"杨", "yang"}, {"黄", "huang"}, {"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"}, {"徐", "xu"},
	{"孙", "sun"}, {"马", "ma"}, {"朱", "zhu"}, {"胡", "hu"}, {"郭", "guo"}, {"何", "he"},
	{"高", "gao"}, {"林", "lin"}, {"罗", "luo"}, {"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"},
	{"宋", "song"}, {"唐", "tang"}, {"许", "xu"}, {"韩", "han"}, {"冯", "feng"}, {"邓", "deng"}, {"曹", "cao"}}

var givenNames = []name{{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"秀英", "xiuying"}, {"敏", "min"},
	{"静", "jing"}, {"丽", "li"}, {"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"},
	{"勇", "yong"}, {"艳", "yan"}, {"杰", "jie"}, {"娟", "juan"}, {"涛", "tao"}, {"明", "ming"},
	{"超", "chao"}, {"秀兰", "xiulan"}, {"霞", "xia"}, {"平", "ping"}, {"刚", "gang"}, {"桂英", "guiying"},
	{"建华", "jianhua"}, {"文", "wen"}, {"华", "hua"}, {"晓东", "xiaodong"}, {"子涵", "zihan"},
	{"浩然", "haoran"}, {"欣怡", "xinyi"}, {"宇轩", "yuxuan"}, {"雨桐", "yutong"}}

// loginName is a name as people choose them, made unique by ending in i:
// the pinyin has no digits, so the trailing digits are i whichever way
// the syllables run together.
func loginName(r *rand.Rand, sur, given, i int) string {
	s, g := surnames[sur].pinyin, givenNames[given].pinyin
	tail := strconv.Itoa(i)
	switch r.IntN(4) {
	case 0:
		return s + g + tail
	case 1:
		return strings.ToUpper(s[:1]) + s[1:] + strings.ToUpper(g[:1]) + g[1:] + "_" + tail
	case 2:
		return g + "_" + s + tail
	}
	return s + "_" + g + "_" + tail
}

var mailDomains = []string{"qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com", "139.com"}

var nicknames = []string{"小王", "阳光", "快乐每一天", "老李", "清风", "追梦人", "晴天", "不忘初心"}

var workUnits = []string{"杭州市人民医院", "浙江大学", "某某科技有限公司", "市第一中学", "区政务服务中心", "省电力公司"}

var operators = []string{"zhangli", "wangfang", "chenjie", "liuyang", "zhaomin", "sunwei", "zhoujing",
	"wuqiang", "xulei", "huangjun", "linna", "heyong", "gaoyan", "luotao", "zhengming", "liangchao",
	"xiexia", "songping", "tanggang", "hanwen"}

// clientName is the client id of service system i.
func clientName(i int) string {
	names := []string{"zwfw-portal", "shebao", "gongjijin", "yibao", "jiaoyu", "gongan-hz", "shuiwu",
		"minzheng", "renshe", "budongchan", "jiaotong", "weijian", "shichang", "gongshang", "huanbao",
		"zhujian", "wenlv", "tiyu", "nongye", "shuili", "jiaoyu-gaokao", "chuzu", "huji", "chujing",
		"laonian", "canlian", "tuiyi", "fuyou", "jiuye", "chuangye"}
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%s-%02d", names[i%len(names)], i/len(names))
}

// firstOctets are first octets of address blocks common in China.
var firstOctets = []int{27, 36, 39, 42, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116,
	117, 118, 119, 120, 121, 122, 123, 124, 125, 180, 182, 183, 202, 210, 211, 218, 219, 220, 221, 222, 223}

// userAgents are browsers and apps that sign in.
var userAgents = []string{
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49",
	"Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; PGT-AN10) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 AlipayClient/10.5.96",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Linux; Android 12; M2102J2SC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0 Mobile Safari/537.36 HuaweiBrowser/14.0",
	"okhttp/4.12.0",
}
