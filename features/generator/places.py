"""Where the synthetic cooperatives are: Balikpapan's 34 kelurahan, then synthetic names.

Profiles follow the local character in DOMAIN.md (coastal fisheries and seafood processing,
snack and food production, dense-urban trade and services, peri-urban); where the source
names no activity the profile is inferred from the kecamatan.
"""

from __future__ import annotations

from dataclasses import dataclass

from features.ledger.enums import CoopProfile

C, F, U, P = (
    CoopProfile.COASTAL,
    CoopProfile.FOOD_PRODUCTION,
    CoopProfile.URBAN_TRADE,
    CoopProfile.PERI_URBAN,
)

BALIKPAPAN: tuple[tuple[str, str, CoopProfile], ...] = (
    ("Balikpapan Timur", "Manggar", C),
    ("Balikpapan Timur", "Manggar Baru", C),
    ("Balikpapan Timur", "Lamaru", P),
    ("Balikpapan Timur", "Teritip", C),
    ("Balikpapan Barat", "Baru Ilir", C),
    ("Balikpapan Barat", "Baru Tengah", C),
    ("Balikpapan Barat", "Baru Ulu", U),
    ("Balikpapan Barat", "Margasari", C),
    ("Balikpapan Barat", "Margo Mulyo", F),
    ("Balikpapan Barat", "Kariangau", P),
    ("Balikpapan Utara", "Batu Ampar", U),
    ("Balikpapan Utara", "Gunung Samarinda", U),
    ("Balikpapan Utara", "Gunung Samarinda Baru", P),
    ("Balikpapan Utara", "Muara Rapak", F),
    ("Balikpapan Utara", "Graha Indah", P),
    ("Balikpapan Utara", "Karang Joang", P),
    ("Balikpapan Tengah", "Gunung Sari Ilir", U),
    ("Balikpapan Tengah", "Gunung Sari Ulu", F),
    ("Balikpapan Tengah", "Mekar Sari", U),
    ("Balikpapan Tengah", "Karang Rejo", F),
    ("Balikpapan Tengah", "Sumber Rejo", U),
    ("Balikpapan Tengah", "Karang Jati", F),
    ("Balikpapan Selatan", "Sepinggan", C),
    ("Balikpapan Selatan", "Sepinggan Baru", U),
    ("Balikpapan Selatan", "Sepinggan Raya", U),
    ("Balikpapan Selatan", "Damai Baru", U),
    ("Balikpapan Selatan", "Damai Bahagia", F),
    ("Balikpapan Selatan", "Gunung Bahagia", U),
    ("Balikpapan Selatan", "Sungai Nangka", P),
    ("Balikpapan Kota", "Klandasan Ilir", U),
    ("Balikpapan Kota", "Klandasan Ulu", F),
    ("Balikpapan Kota", "Prapatan", U),
    ("Balikpapan Kota", "Telaga Sari", U),
    ("Balikpapan Kota", "Damai", F),
)

_PREFIXES = (
    "Tanjung",
    "Sungai",
    "Teluk",
    "Bukit",
    "Karang",
    "Sumber",
    "Mekar",
    "Muara",
    "Sido",
    "Tegal",
)
_SUFFIXES = (
    "Jaya",
    "Makmur",
    "Sari",
    "Indah",
    "Mulia",
    "Asri",
    "Permai",
    "Lestari",
    "Harapan",
    "Sejahtera",
)


@dataclass(frozen=True)
class Place:
    cooperative_id: str
    name: str
    kelurahan: str
    kecamatan: str | None
    city: str
    profile: CoopProfile


def place(index: int) -> Place:
    """The index-th cooperative (0-based): real Balikpapan first, then synthetic, same mix."""
    coop_id = f"KMP-{index + 1:04d}"
    if index < len(BALIKPAPAN):
        kecamatan, kelurahan, profile = BALIKPAPAN[index]
        city: str = "Kota Balikpapan"
        kec: str | None = kecamatan
    else:
        k = index - len(BALIKPAPAN)
        _, _, profile = BALIKPAPAN[k % len(BALIKPAPAN)]
        n_names = len(_PREFIXES) * len(_SUFFIXES)
        base = (
            f"{_PREFIXES[k % len(_PREFIXES)]} {_SUFFIXES[(k // len(_PREFIXES)) % len(_SUFFIXES)]}"
        )
        kelurahan = base if k < n_names else f"{base} {k // n_names + 1}"
        city = "Kota Sintetis"
        kec = None
    return Place(
        cooperative_id=coop_id,
        name=f"Koperasi Kelurahan Merah Putih {kelurahan}",
        kelurahan=kelurahan,
        kecamatan=kec,
        city=city,
        profile=profile,
    )
