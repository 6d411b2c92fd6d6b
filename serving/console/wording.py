"""What the console's pages say, in Bahasa Indonesia and English: one table, one lookup.

Feature labels, reason texts and rule texts come from the catalog and the policy (as the
API answers them); this table holds only the words of the pages themselves. Numbers,
Rupiah and dates go through `features.wording`, never through here.
"""

from __future__ import annotations

from features.wording import Lang

__all__ = ["TEXT", "text"]

TEXT: dict[str, tuple[str, str]] = {
    # frame
    "app_name": ("Amanah", "Amanah"),
    "app_tagline": ("Konsol petugas koperasi", "Cooperative officer console"),
    "skip": ("Langsung ke isi", "Skip to content"),
    "nav": ("Menu utama", "Main menu"),
    "nav_home": ("Beranda", "Home"),
    "nav_queue": ("Antrean", "Queue"),
    "nav_collections": ("Daftar tagihan", "Collection list"),
    "nav_portfolio": ("Portofolio", "Portfolio"),
    "nav_import": ("Impor data", "Import"),
    "logout": ("Keluar", "Log out"),
    "language": ("Bahasa", "Language"),
    "signed_in_as": ("Masuk sebagai", "Signed in as"),
    "role_officer": ("petugas", "officer"),
    "role_supervisor": ("pengawas", "supervisor"),
    "cooperative": ("Koperasi", "Cooperative"),
    "book_as_of": ("Data buku per", "Book as of"),
    # login
    "login_title": ("Masuk", "Log in"),
    "username": ("Nama pengguna", "Username"),
    "password": ("Kata sandi", "Password"),
    "login_button": ("Masuk", "Log in"),
    "bad_login": ("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
    "locked": (
        "Akun dikunci sementara setelah terlalu banyak percobaan yang salah. Coba lagi "
        "setelah {until}, atau hubungi pengurus.",
        "The account is locked for a while after too many wrong attempts. Try again after "
        "{until}, or ask the board.",
    ),
    "expired": (
        "Sesi Anda telah berakhir. Silakan masuk lagi.",
        "Your session has ended. Please log in again.",
    ),
    "logged_out": ("Anda telah keluar.", "You have logged out."),
    # home and search
    "home_title": ("Beranda", "Home"),
    "search_label": ("Cari anggota (nama atau nomor anggota)", "Find a member (name or number)"),
    "search_button": ("Cari", "Search"),
    "search_title": ("Hasil pencarian", "Search results"),
    "search_none": (
        "Tidak ada anggota yang cocok dengan \u201c{q}\u201d.",
        "No member matches \u201c{q}\u201d.",
    ),
    "search_hint": ("Ketik sebagian nama atau nomor anggota.", "Type part of a name or a number."),
    "pending_count": ("Pengajuan menunggu keputusan", "Applications awaiting a decision"),
    "late_count": (
        "Angsuran terlambat atau jatuh tempo minggu ini",
        "Instalments late or due this week",
    ),
    "member_number": ("Nomor anggota", "Member number"),
    "name": ("Nama", "Name"),
    "group": ("Kelompok tanggung renteng", "Joint-liability group"),
    "no_group": ("Tidak ikut kelompok", "No group"),
    "joined": ("Bergabung", "Joined"),
    "sector": ("Usaha", "Business"),
    # member page
    "member_title": ("Anggota", "Member"),
    "new_application": ("Pengajuan pinjaman baru", "New loan application"),
    "profile_by_5c": ("Profil menurut 5C", "Profile by the 5C"),
    "profile_as_of": ("Profil per", "Profile as of"),
    "no_profile": (
        "Anggota ini belum punya profil (profil dibangun sebelum ia bergabung).",
        "This member has no profile yet (the profiles were built before she joined).",
    ),
    "savings": ("Simpanan", "Savings"),
    "savings_chart": ("Saldo simpanan 24 bulan terakhir", "Savings balance, last 24 months"),
    "wajib_missed": (
        "Simpanan wajib tidak disetor {n} dari 12 bulan terakhir.",
        "Compulsory savings missed in {n} of the last 12 months.",
    ),
    "repayments": ("Riwayat angsuran", "Repayment history"),
    "repayment_chart": ("Hari keterlambatan per angsuran", "Days late per instalment"),
    "on_time": ("tepat waktu", "on time"),
    "days_late": ("hari terlambat", "days late"),
    "not_yet_due": ("belum jatuh tempo", "not yet due"),
    "loans": ("Pinjaman", "Loans"),
    "no_loans": ("Belum pernah meminjam.", "No loans yet."),
    "principal": ("Plafon", "Principal"),
    "tenor": ("Jangka waktu", "Tenor"),
    "months": ("bulan", "months"),
    "disbursed": ("Dicairkan", "Disbursed"),
    "outstanding": ("Sisa pinjaman", "Outstanding"),
    "dpd": ("Hari tunggakan", "Days past due"),
    "kol": ("Kolektibilitas", "Loan quality"),
    "next_due": ("Jatuh tempo berikutnya", "Next due"),
    "closed": ("lunas", "repaid"),
    "group_arrears": ("{n} anggota kelompok menunggak.", "{n} group members are in arrears."),
    "group_clear": ("Tidak ada anggota kelompok yang menunggak.", "No group member is in arrears."),
    "arrears": ("Tunggakan", "Arrears"),
    "not_found": ("Tidak ditemukan", "Not found"),
    "member_not_found": (
        "Anggota ini tidak ada di koperasi Anda.",
        "This member is not in your cooperative.",
    ),
    "page_not_found": ("Halaman tidak ditemukan.", "Page not found."),
    # application form
    "apply_title": ("Pengajuan pinjaman", "Loan application"),
    "amount": ("Plafon (Rp)", "Loan amount (Rp)"),
    "amount_hint": ("Contoh: 5.000.000", "For example: 5.000.000"),
    "tenor_months": ("Jangka waktu (bulan)", "Tenor (months)"),
    "purpose": ("Tujuan pinjaman", "Purpose"),
    "product": ("Produk pinjaman", "Loan product"),
    "flat_rate": ("Bunga flat per bulan (%)", "Flat monthly interest (%)"),
    "declared_income": (
        "Penghasilan per bulan (Rp), dinyatakan anggota",
        "Monthly income (Rp), as declared",
    ),
    "declared_expenses": (
        "Pengeluaran rumah tangga per bulan (Rp)",
        "Monthly household expenses (Rp)",
    ),
    "optional": ("boleh dikosongkan", "optional"),
    "income_verified": (
        "Saya sudah memverifikasi penghasilan dan pengeluaran ini",
        "I have verified this income and these expenses",
    ),
    "score_button": ("Nilai pengajuan", "Score the application"),
    "form_errors": ("Periksa isian berikut:", "Please check these fields:"),
    "err_amount": (
        "Plafon harus berupa jumlah Rupiah lebih dari 0, misalnya 5.000.000.",
        "The amount must be Rupiah above 0, for example 5.000.000.",
    ),
    "err_tenor": (
        "Jangka waktu harus bilangan bulat 1 sampai 60 bulan.",
        "The tenor must be a whole number of 1 to 60 months.",
    ),
    "err_purpose": ("Pilih tujuan pinjaman dari daftar.", "Choose a purpose from the list."),
    "err_money": (
        "Isi jumlah Rupiah (0 atau lebih), atau kosongkan.",
        "Enter Rupiah (0 or more), or leave it empty.",
    ),
    "err_loan": (
        "Pengajuan tidak dapat dinilai: {detail}",
        "The application cannot be scored: {detail}",
    ),
    # result page
    "result_title": ("Hasil penilaian", "Score result"),
    "grade": ("Tingkat risiko", "Risk grade"),
    "pd": ("Peluang gagal bayar", "Probability of default"),
    "score": ("Skor", "Score"),
    "recommendation": ("Rekomendasi", "Recommendation"),
    "max_amount": ("Plafon maksimum yang disarankan", "Largest recommended amount"),
    "approved_amount": ("Plafon yang disetujui sistem", "Amount the system would approve"),
    "instalment": ("Angsuran per bulan", "Monthly instalment"),
    "request": ("Pengajuan", "Request"),
    "adverse": ("Faktor yang memberatkan", "Adverse factors"),
    "favourable": ("Faktor yang meringankan", "Favourable factors"),
    "no_adverse": ("Tidak ada faktor yang memberatkan.", "No adverse factor."),
    "no_favourable": ("Tidak ada faktor yang meringankan.", "No favourable factor."),
    "reasons_by_5c": ("Alasan menurut 5C", "Reasons by the 5C"),
    "contribution": (
        "Pengaruh tiap faktor pada skor (poin)",
        "Effect of each factor on the score (points)",
    ),
    "improve": ("Cara memperbaiki", "How to improve"),
    "rules": ("Aturan kebijakan yang berlaku", "Policy rules that applied"),
    "no_rules": (
        "Tidak ada aturan khusus; keputusan mengikuti tingkat risiko.",
        "No special rule; the decision follows the risk grade.",
    ),
    "model_version": ("Versi model", "Model version"),
    "policy_version": ("Versi kebijakan", "Policy version"),
    "review_note": (
        "Ini rekomendasi sistem. Setiap keputusan ditinjau dan diambil oleh petugas; anggota "
        "berhak meminta peninjauan.",
        "This is the system's recommendation. An officer reviews and takes every decision; "
        "the member may ask for a review.",
    ),
    "thin_file": (
        "Riwayat anggota masih tipis: nilai ini kurang pasti.",
        "The member's history is thin: this score is less certain.",
    ),
    "stale": (
        "Profil sudah {days} hari; perilaku terbaru anggota belum tercakup.",
        "The profile is {days} days old; the member's latest behaviour is not in it.",
    ),
    "decide_title": ("Keputusan petugas", "Officer's decision"),
    "decision": ("Keputusan", "Decision"),
    "approve": ("Setujui", "Approve"),
    "decline": ("Tolak", "Decline"),
    "refer": ("Rujuk ke pengurus", "Refer to the board"),
    "decision_reason": ("Alasan keputusan", "Reason for the decision"),
    "decision_reason_hint": (
        "Wajib diisi bila berbeda dari rekomendasi.",
        "Required when it differs from the recommendation.",
    ),
    "decide_button": ("Simpan keputusan", "Record the decision"),
    "err_decision": ("Pilih Setujui, Tolak atau Rujuk.", "Choose approve, decline or refer."),
    "err_reason": (
        "Keputusan berbeda dari rekomendasi: tuliskan alasannya.",
        "The decision differs from the recommendation: write the reason.",
    ),
    "err_reason_long": (
        "Alasan paling panjang 2.000 karakter.",
        "The reason may be at most 2,000 characters.",
    ),
    "already_decided": ("Pengajuan ini sudah diputuskan.", "This application is already decided."),
    "decided_by": ("Diputuskan oleh {who} pada {at}", "Decided by {who} on {at}"),
    "by_person": (
        "Keputusan diambil oleh petugas, bukan otomatis.",
        "A person took this decision, not the system alone.",
    ),
    "overridden": ("Berbeda dari rekomendasi", "Differs from the recommendation"),
    "letter_link": ("Cetak surat keputusan", "Print the decision letter"),
    # letter
    "letter_title": ("Surat keputusan pengajuan pinjaman", "Loan application decision letter"),
    "letter_to": ("Kepada anggota", "To member"),
    "letter_intro": (
        "Pengajuan pinjaman Anda sebesar {amount} untuk {tenor} bulan telah kami tinjau.",
        "We have reviewed your loan application of {amount} for {tenor} months.",
    ),
    "letter_decision": ("Keputusan: {decision}", "Decision: {decision}"),
    "letter_pending": ("Keputusan belum diambil.", "No decision has been taken yet."),
    "letter_reasons": ("Alasan utama", "Main reasons"),
    "letter_improve": ("Yang dapat Anda lakukan", "What you can do"),
    "letter_review": (
        "Keputusan ini diambil oleh petugas koperasi dengan bantuan penilaian Amanah. Anda "
        "berhak meminta peninjauan ulang oleh pengurus dan menyatakan keberatan atas penilaian "
        "otomatis (UU 27/2022 tentang Pelindungan Data Pribadi): sampaikan ke kantor koperasi "
        "dalam 30 hari dengan membawa surat ini.",
        "An officer of the cooperative took this decision with the help of Amanah's score. "
        "You have the right to ask the board for a review and to object to automated "
        "assessment (Law 27/2022 on Personal Data Protection): bring this letter to the "
        "cooperative's office within 30 days.",
    ),
    "letter_ref": ("Nomor rujukan", "Reference"),
    "letter_date": ("Tanggal", "Date"),
    "print": ("Cetak", "Print"),
    "signature": ("Petugas", "Officer"),
    # queue
    "queue_title": ("Antrean pengajuan", "Application queue"),
    "status": ("Status", "Status"),
    "all": ("Semua", "All"),
    "pending": ("Menunggu keputusan", "Awaiting decision"),
    "decided": ("Sudah diputuskan", "Decided"),
    "filter": ("Saring", "Filter"),
    "scored_at": ("Dinilai", "Scored"),
    "officer": ("Petugas", "Officer"),
    "only_overridden": ("Hanya yang berbeda dari rekomendasi", "Only overrides"),
    "queue_empty": ("Tidak ada pengajuan.", "No applications."),
    "open": ("Buka", "Open"),
    # collections
    "collections_title": ("Daftar tagihan", "Collection list"),
    "collections_intro": (
        "Angsuran yang terlambat atau jatuh tempo dalam 7 hari sejak {as_of}, yang paling "
        "lama terlambat di atas.",
        "Instalments late or falling due within 7 days of {as_of}, longest late first.",
    ),
    "due_date": ("Jatuh tempo", "Due"),
    "amount_due": ("Angsuran", "Instalment"),
    "call_on": ("Hubungi kelompok", "Call on the group"),
    "collections_empty": ("Tidak ada tagihan minggu ini.", "Nothing to collect this week."),
    "due_soon": ("jatuh tempo", "due"),
    # portfolio
    "portfolio_title": ("Portofolio koperasi", "Cooperative portfolio"),
    "active_loans": ("Pinjaman berjalan", "Active loans"),
    "npl_ratio": ("Kredit bermasalah (NPL, kol 3\u20135)", "Non-performing (NPL, class 3\u20135)"),
    "expected_loss": ("Perkiraan kerugian buku", "Expected loss of the book"),
    "expected_loss_note": (
        "Peluang gagal bayar tiap peminjam dari model saat ini \u00d7 sisa pokok \u00d7 "
        "kerugian bila gagal bayar {lgd}.",
        "Each borrower's probability of default from the current model \u00d7 outstanding "
        "principal \u00d7 loss given default {lgd}.",
    ),
    "stress_title": (
        "Buku dalam tekanan, 12 bulan ke depan",
        "The book under stress, next 12 months",
    ),
    "stress_note": (
        "Angsuran yang diharapkan masuk dari pinjaman berjalan dibandingkan angsuran koperasi "
        "ke bank Himbara ({instalment}/bulan{assumed}). Skenario mengalikan peluang gagal bayar "
        "anggota yang terkena.",
        "Instalments expected in from open loans against the cooperative's own instalment to "
        "its Himbara bank ({instalment}/month{assumed}). Scenarios multiply the odds of "
        "default of the members they hit.",
    ),
    "stress_assumed": (
        ", diasumsikan: pinjaman sebesar sisa pokok, 6% setahun, 36 bulan",
        ", assumed: a loan the size of the outstanding principal, 6% a year, 36 months",
    ),
    "scenario": ("Skenario", "Scenario"),
    "scenario_base": ("Kondisi saat ini", "As it stands"),
    "expected_defaults": ("Perkiraan gagal bayar", "Expected defaults"),
    "collections_12m": ("Angsuran masuk", "Instalments in"),
    "bank_due_12m": ("Angsuran ke bank", "Due to the bank"),
    "coverage": ("Cakupan", "Coverage"),
    "by_kol": ("Menurut kolektibilitas", "By loan quality class"),
    "loans_count": ("Jumlah pinjaman", "Loans"),
    "score_distribution": ("Sebaran skor pengajuan", "Distribution of application scores"),
    "default_by_grade": ("Gagal bayar teramati menurut tingkat", "Observed default rate by grade"),
    "default_by_grade_note": (
        "Pinjaman koperasi ini yang masa amatan 12 bulannya sudah selesai, dinilai oleh model "
        "saat ini dengan profil pada tanggal pengajuan (termasuk pinjaman tempat model belajar; "
        "angka uji di luar sampel ada di laporan validasi).",
        "This cooperative's loans whose 12-month window has closed, graded by the current model "
        "on the profile as of each application (including loans the model learned from; the "
        "out-of-sample figures are in the validation report).",
    ),
    "matured": (
        "Pinjaman dengan masa amatan 12 bulan selesai",
        "Loans whose 12 months have passed",
    ),
    "default_rate": ("Tingkat gagal bayar", "Default rate"),
    "approval_over_time": (
        "Persetujuan dan keputusan berbeda per bulan",
        "Approvals and overrides by month",
    ),
    "month": ("Bulan", "Month"),
    "applications": ("Pengajuan", "Applications"),
    "approval_rate": ("Disetujui", "Approved"),
    "override_rate": ("Berbeda dari rekomendasi", "Overrides"),
    "validation_report": ("Laporan validasi model saat ini", "Current model's validation report"),
    "no_scores_yet": ("Belum ada pengajuan yang dinilai.", "No application scored yet."),
    # import
    "import_title": ("Impor data koperasi", "Import the cooperative's data"),
    "import_intro": (
        "Unggah ekspor koperasi (file CSV atau satu buku kerja XLSX). Baris yang salah "
        "dikarantina dengan alasannya; data diperiksa di folder terpisah dan tidak mengubah "
        "profil yang sedang dipakai sampai analis membangun ulang profil.",
        "Upload the cooperative's export (CSV files or one XLSX workbook). Wrong rows are "
        "quarantined with their reason; the data is checked in a separate folder and does not "
        "change the profiles in use until an analyst rebuilds them.",
    ),
    "files": ("File", "Files"),
    "import_button": ("Periksa dan impor", "Check and import"),
    "import_report": ("Hasil impor", "Import report"),
    "table": ("Tabel", "Table"),
    "read": ("Dibaca", "Read"),
    "accepted": ("Diterima", "Accepted"),
    "quarantined": ("Dikarantina", "Quarantined"),
    "quarantine_download": ("Unduh baris karantina (XLSX)", "Download the quarantined rows (XLSX)"),
    "err_no_files": (
        "Pilih minimal satu file CSV atau XLSX.",
        "Choose at least one CSV or XLSX file.",
    ),
    "err_file_type": ("File {name} bukan CSV atau XLSX.", "File {name} is not CSV or XLSX."),
    "err_import": ("Impor gagal: {detail}", "The import failed: {detail}"),
    "err_other_coop": (
        "Ekspor ini memuat koperasi lain ({others}); Anda hanya dapat mengimpor data "
        "koperasi Anda.",
        "This export holds other cooperatives ({others}); you may import only your own.",
    ),
    "err_too_large": (
        "File terlalu besar (paling besar {mb} MB).",
        "Files too large (at most {mb} MB).",
    ),
    # errors
    "csrf": (
        "Formulir ini kedaluwarsa atau tidak sah. Muat ulang halaman dan coba lagi.",
        "This form has expired or is not valid. Reload the page and try again.",
    ),
    "forbidden": ("Anda tidak berhak membuka halaman ini.", "You may not open this page."),
    "unavailable": ("Layanan penilaian belum siap: {detail}", "Scoring is not ready: {detail}"),
    "back_home": ("Kembali ke beranda", "Back to home"),
    "yes": ("ya", "yes"),
    "no": ("tidak", "no"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The page text `key` in `lang`, with `{placeholders}` filled from `values`."""
    said = TEXT[key][0 if lang == "id" else 1]
    return said.format(**values) if values else said
