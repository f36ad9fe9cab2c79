package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/store"
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

// TestLevelNamesAreConfigured: a province that names its real-name levels
// otherwise sees its names on the personal space and the 实名认证 page, in
// each language it configured.
func TestLevelNamesAreConfigured(t *testing.T) {
	srv := apptest.Start(t, func(c *config.Config) {
		c.Realname.LevelNames, c.Realname.LevelNamesEN = "一级,二级,三级", "Level One,Level Two,Level Three"
	})
	b := srv.Browser(t)
	b.Lang = "zh-CN"
	id := b.MustRegister(apptest.Zhang)
	b.MustLogin(apptest.Zhang.Login, apptest.Zhang.Password)
	// A fixture step standing in for a passed verification.
	if _, err := srv.App.Store.UpdateUser(t.Context(), id, func(u store.User) (store.User, error) {
		u.RealnameLevel = 2
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if me := string(b.Get("/me").Body); !strings.Contains(me, "二级") || strings.Contains(me, "中级") {
		t.Error("the personal space does not show the configured name of level 2")
	}
	if page := string(b.Get("/settings/realname").Body); !strings.Contains(page, "三级") {
		t.Error("the 实名认证 page does not show the configured name of level 3")
	}
	b.Lang = "en"
	if me := string(b.Get("/me?lang=en").Body); !strings.Contains(me, "Level Two") {
		t.Error("the English personal space does not show the configured name of level 2")
	}
}
