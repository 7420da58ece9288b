"""Country → ISO 3166-1 alpha-2 (as the model's CountryCode enum) and US state → full name."""

from __future__ import annotations

import functools
import re
from typing import Final

import pycountry

from . import model
from .errors import FieldError

# Names people type that pycountry does not know (it knows names, alpha-2/3, official and common names).
COUNTRY_ALIASES: Final = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united kingdom of great britain": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "us": "US",
    "united states of america": "US",
    "america": "US",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "taiwan": "TW",
    "czech republic": "CZ",
    "turkey": "TR",
    "holland": "NL",
    # Local-language names people type in CRMs.
    "brasil": "BR",
    "méxico": "MX",
    "italia": "IT",
    "nederland": "NL",
    "österreich": "AT",
    "osterreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "polska": "PL",
    "nippon": "JP",
    "nihon": "JP",
    "the netherlands": "NL",
    "uae": "AE",
    "u.a.e.": "AE",
    "ivory coast": "CI",
    "cape verde": "CV",
    "macedonia": "MK",
    "brunei": "BN",
    "swaziland": "SZ",
    "burma": "MM",
    "vatican": "VA",
    "palestine": "PS",
    "hong kong sar": "HK",
    "macau": "MO",
    "deutschland": "DE",
    "espana": "ES",
    "españa": "ES",
    "prc": "CN",
    "mainland china": "CN",
}

# StateOrRegion valid values for the US, as listed in the model's documentation.
US_STATES: Final = (
    "Alabama",
    "Alaska",
    "American Samoa",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "Dist. of Columbia",
    "Federated States of Micronesia",
    "Florida",
    "Georgia",
    "Guam",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Marshall Islands",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Northern Mariana Islands",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Palau",
    "Pennsylvania",
    "Puerto Rico",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Virgin Islands",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
    "APO/AE",
    "AFO/FPO",
    "FPO, AP",
)
_STATE_ALIASES: Final = {
    "district of columbia": "Dist. of Columbia",
    "washington dc": "Dist. of Columbia",
    "washington d.c.": "Dist. of Columbia",
    "d.c.": "Dist. of Columbia",
    "virgin islands, u.s.": "Virgin Islands",
    "us virgin islands": "Virgin Islands",
    "micronesia": "Federated States of Micronesia",
}
# Postal codes for the territories and freely associated states pycountry files under other countries.
_EXTRA_STATE_CODES: Final = {
    "FM": "Federated States of Micronesia",
    "MH": "Marshall Islands",
    "PW": "Palau",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "Virgin Islands",
}


@functools.cache
def _us_state_lookup() -> dict[str, str]:
    out = {s.casefold(): s for s in US_STATES}
    out.update(_STATE_ALIASES)
    for sub in pycountry.subdivisions.get(country_code="US") or ():  # type: ignore[no-untyped-call]
        code = sub.code.split("-", 1)[1]
        name = _STATE_ALIASES.get(sub.name.casefold(), sub.name)
        if name in US_STATES:
            out[code.casefold()] = name
            out[sub.name.casefold()] = name
    for code, name in _EXTRA_STATE_CODES.items():
        out[code.casefold()] = name
    return out


@functools.lru_cache(maxsize=4_096)
def country_code(value: str, field: str = "country") -> str | FieldError:
    """An alpha-2 code from a name, alpha-2, alpha-3 or alias; never a silent default."""
    key = re.sub(r"\s+", " ", value.strip())
    code = COUNTRY_ALIASES.get(key.casefold())
    if code is None and len(key) == 2 and key.upper() in model.COUNTRY_CODES:
        code = key.upper()
    if code is None:
        try:
            code = pycountry.countries.lookup(key).alpha_2
        except LookupError:
            code = None
    if code is None or code not in model.COUNTRY_CODES:
        return FieldError(
            field,
            value,
            "unknown country or not accepted by Partner Central",
            "a country name, ISO 3166-1 alpha-2 or alpha-3 code (e.g. 'Germany', 'DE', 'DEU', 'UK')",
        )
    return code


def country_name(code: str | None) -> str | None:
    """The name written back to HubSpot for a country code (pycountry's name, or the code)."""
    if not code:
        return None
    found = pycountry.countries.get(alpha_2=code)
    return found.name if found is not None else code


@functools.lru_cache(maxsize=4_096)
def us_state(value: str, field: str = "state") -> str | FieldError:
    """The full state name ACE expects for a US address, from a name or a postal code."""
    name = _us_state_lookup().get(re.sub(r"\s+", " ", value.strip()).casefold())
    if name is None:
        return FieldError(field, value, "unknown US state (the model lists full names)", list(US_STATES))
    return name
