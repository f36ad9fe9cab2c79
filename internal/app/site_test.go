package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/config"
)

// TestSiteIsConfigured: one platform name, set once in the configuration,
// is what the pages, their titles and the SMS signature say; help, hotline
// and the legal texts come from the configuration too.
func TestSiteIsConfigured(t *testing.T) {
	dir := t.TempDir()
	privacy := filepath.Join(dir, "privacy.txt")
	if err := os.WriteFile(privacy, []byte("## 山东省统一身份认证平台隐私政策\n\n我们只收集办理业务所必需的个人信息。\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, func(c *config.Config) {
		c.Site.Name, c.Site.NameEN = "山东省统一身份认证平台", "Shandong Identity Authentication"
		c.Site.Hotline, c.Site.HelpURL = "0531-12345", "https://help.example.gov.cn/"
		c.Site.PrivacyFile = privacy
	})
	b := srv.Browser(t)
	b.Lang = "zh-CN"
	login := string(b.Get("/login").Body)
	for _, want := range []string{"<title>", "山东省统一身份认证平台", "0531-12345", `href="https://help.example.gov.cn/"`} {
		if !strings.Contains(login, want) {
			t.Errorf("the login page lacks %q", want)
		}
	}
	if strings.Contains(login, ">统一身份认证平台<") {
		t.Error("the login page still shows the default platform name")
	}
	if r := b.Get("/privacy"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "我们只收集办理业务所必需的个人信息") {
		t.Errorf("/privacy: %d, want the configured notice", r.Status)
	}
	if r := b.Get("/terms"); r.Status != http.StatusOK || len(r.Body) < 500 {
		t.Errorf("/terms: %d, want the default agreement", r.Status)
	}
	b.Lang = "en"
	if body := string(b.Get("/login?lang=en").Body); !strings.Contains(body, "Shandong Identity Authentication") {
		t.Error("the English login page lacks the English platform name")
	}
	b.SendCode("13812345678")
	if text := srv.Outbox(t)[0].Text; !strings.HasPrefix(text, "【山东省统一身份认证平台】") {
		t.Errorf("SMS text %q, want the platform's signature", text)
	}
}
