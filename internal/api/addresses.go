package api

import (
	"net/http"
	"time"

	"unid/internal/address"
	"unid/internal/audit"
	"unid/internal/division"
	"unid/internal/httpx"
	"unid/internal/problem"
)

// addressRoutes are the EMS addresses of the signed-in user (我的EMS) and
// the division table their forms choose from.
func (a *API) addressRoutes() []httpx.Route {
	return []httpx.Route{
		{Pattern: "GET /api/v1/me/addresses", Handler: a.Guard.SignedIn(a.listAddresses)},
		{Pattern: "POST /api/v1/me/addresses", Handler: a.Guard.SignedIn(a.createAddress)},
		{Pattern: "PUT /api/v1/me/addresses/{id}", Handler: a.Guard.SignedIn(a.updateAddress)},
		{Pattern: "DELETE /api/v1/me/addresses/{id}", Handler: a.Guard.SignedIn(a.deleteAddress)},
		{Pattern: "POST /api/v1/me/addresses/{id}/default", Handler: a.Guard.SignedIn(a.setDefaultAddress)},
		{Pattern: "GET /api/v1/divisions", Handler: a.listDivisions},
	}
}

// maxAddressBody bounds an address form: seven short strings.
const maxAddressBody = 4 << 10

type addressRequest struct {
	Recipient string `json:"recipient"`
	Phone     string `json:"phone"`
	Province  string `json:"province"`
	City      string `json:"city"`
	County    string `json:"county"`
	Detail    string `json:"detail"`
	Postcode  string `json:"postcode"`
	IsDefault bool   `json:"is_default"`
}

type addressJSON struct {
	ID           string    `json:"id"`
	Recipient    string    `json:"recipient"`
	Phone        string    `json:"phone"` // masked
	ProvinceCode string    `json:"province_code"`
	ProvinceName string    `json:"province_name"`
	CityCode     string    `json:"city_code"`
	CityName     string    `json:"city_name"`
	CountyCode   string    `json:"county_code"` // "" for a city without counties
	CountyName   string    `json:"county_name"`
	Detail       string    `json:"detail"`
	Postcode     string    `json:"postcode"`
	IsDefault    bool      `json:"is_default"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toAddressJSON(v address.View) addressJSON {
	return addressJSON{
		ID: v.ID, Recipient: v.Recipient, Phone: v.Phone,
		ProvinceCode: v.Place.Province.Code, ProvinceName: v.Place.Province.Name,
		CityCode: v.Place.City.Code, CityName: v.Place.City.Name,
		CountyCode: v.Place.County.Code, CountyName: v.Place.County.Name,
		Detail: v.Detail, Postcode: v.Postcode, IsDefault: v.Default, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
}

func (r addressRequest) input() address.Input {
	return address.Input{
		Recipient: r.Recipient, Phone: r.Phone, Province: r.Province, City: r.City, County: r.County,
		Detail: r.Detail, Postcode: r.Postcode, Default: r.IsDefault,
	}
}

// userOrigin is the signed-in user acting through r.
func (a *API) userOrigin(r *http.Request, s httpx.Signed) audit.Origin {
	c := a.client(r)
	return audit.Origin{Actor: audit.User(s.User.ID), IP: c.IP, UserAgent: c.UserAgent}
}

func (a *API) listAddresses(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	list, err := a.Addresses.List(r.Context(), s.User.ID)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	out := make([]addressJSON, 0, len(list))
	for _, v := range list {
		out = append(out, toAddressJSON(v))
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"addresses": out, "max": address.MaxAddresses})
}

func (a *API) createAddress(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req addressRequest
	if err := httpx.DecodeLimit(w, r, &req, maxAddressBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	v, err := a.Addresses.Create(r.Context(), a.userOrigin(r, s), s.User.ID, req.input())
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, toAddressJSON(v))
}

func (a *API) updateAddress(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	var req addressRequest
	if err := httpx.DecodeLimit(w, r, &req, maxAddressBody); err != nil {
		a.Fail(w, r, err)
		return
	}
	v, err := a.Addresses.Update(r.Context(), a.userOrigin(r, s), s.User.ID, r.PathValue("id"), req.input())
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toAddressJSON(v))
}

func (a *API) deleteAddress(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Addresses.Delete(r.Context(), a.userOrigin(r, s), s.User.ID, r.PathValue("id")); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) setDefaultAddress(w http.ResponseWriter, r *http.Request, s httpx.Signed) {
	if err := a.Addresses.SetDefault(r.Context(), a.userOrigin(r, s), s.User.ID, r.PathValue("id")); err != nil {
		a.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type divisionJSON struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	HasChildren bool   `json:"has_children"`
}

// listDivisions answers the cascading selects of an address form: the
// provinces without ?parent, else the divisions under parent. The table is
// public and changes only with a new release of unid.
func (a *API) listDivisions(w http.ResponseWriter, r *http.Request) {
	parent := r.URL.Query().Get("parent")
	if _, ok := division.Lookup(parent); parent != "" && !ok {
		a.Fail(w, r, problem.New(problem.NotFound, "division_not_found"))
		return
	}
	list := division.Children(parent)
	out := make([]divisionJSON, 0, len(list))
	for _, d := range list {
		out = append(out, divisionJSON{Code: d.Code, Name: d.Name, HasChildren: len(division.Children(d.Code)) > 0})
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"divisions": out})
}
