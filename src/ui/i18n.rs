//! The one string catalogue. Every string the UI shows comes from here, in English and
//! Japanese; the macro makes a missing translation a compile error.

use crate::decode::RefusalCode;
use crate::store::RunStatus;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    pub fn t(self, key: T) -> &'static str {
        match self {
            Lang::En => key.en(),
            Lang::Ja => key.ja(),
        }
    }

    /// "1 photo" or "{n} photos": the singular key for one, the plural for every other count.
    pub fn count(self, plural: T, singular: T, n: usize) -> String {
        self.f(if n == 1 { singular } else { plural }, &[("n", &n)])
    }

    /// A string with `{n}`-style holes filled in.
    pub fn f(self, key: T, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), &value.to_string());
        }
        s
    }
}

macro_rules! catalogue {
    ($($key:ident => $en:expr, $ja:expr;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum T { $($key),* }
        impl T {
            pub const ALL: &'static [T] = &[$(T::$key),*];
            pub fn en(self) -> &'static str { match self { $(T::$key => $en),* } }
            pub fn ja(self) -> &'static str { match self { $(T::$key => $ja),* } }
        }
    };
}

catalogue! {
    AppTitle => "dermdesk", "dermdesk";
    MenuCharts => "Charts", "カルテ";
    Chart => "Chart", "カルテ";
    NotLinkedYet => "Not linked to a chart yet (Charts → Link photos to charts).", "まだカルテに紐付けられていません (カルテ → 写真をカルテに紐付け)。";
    LinkStatusLabel => "Link", "紐付け";
    ResearchId => "Research ID", "研究用 ID";
    VisitDate => "Visit date", "受診日";
    ChartDiagnosis => "Chart diagnosis", "カルテの診断";
    PathologyDiagnosis => "Pathology diagnosis", "病理診断";
    ModelPredictions => "Model predictions", "モデルの予測";
    NoPredictionsYet => "No model has looked at this photo yet. Models → Run the models on cleared photos runs them on every photo screened and cleared (Photo → Screen photos…).", "この写真はまだモデルにかけていません。モデル → 確認済みの写真にモデルを実行 で、スクリーニングで問題なしとされた写真すべてにかけます (写真 → 写真をスクリーニング…)。";
    ModelMaskShare => "lesion mask: {p}% of the photo", "病変マスク: 写真の {p}%";
    ModelEmbedding => "embedding: {n} values", "埋め込み: {n} 値";
    NotForClinicalUse => "Not for clinical use.", "臨床には使用しないでください。";
    ModelBenignMalignant => "malignant {m}% · benign {b}% · other {o}%", "悪性 {m}% · 良性 {b}% · その他 {o}%";
    ModelAgrees => "agrees with the chart's diagnosis", "カルテの診断と一致";
    ModelDisagrees => "disagrees with the chart's diagnosis", "カルテの診断と不一致";
    ModelCannotCompare => "the chart's diagnosis is outside what this model names", "カルテの診断はこのモデルの対象外";
    NoLinkedDiagnosis => "no linked diagnosis", "紐付いた診断なし";
    ModelEarlier => "version {v} said {l} {p}%", "バージョン {v} の予測: {l} {p}%";
    ModelEarlierAgreed => "version {v} said {l} {p}%, agreeing with the chart", "バージョン {v} の予測: {l} {p}% (カルテと一致)";
    ModelEarlierDisagreed => "version {v} said {l} {p}%, disagreeing with the chart", "バージョン {v} の予測: {l} {p}% (カルテと不一致)";
    OptedOut => "Opted out", "オプトアウト";
    OptedOutYes => "yes: never leaves the app", "あり: アプリの外には出しません";
    OptedOutNo => "no", "なし";
    LinkLinked => "linked", "紐付け済み";
    LinkAmbiguous => "ambiguous", "曖昧";
    LinkMissing => "missing", "未紐付け";
    LinkConfirmed => "confirmed", "確認済み";
    LinkUnlinked => "unlinked", "紐付け解除";
    LinkWhySameDay => "a visit on the photo's day", "撮影日に受診あり";
    LinkWhyWithinWindow => "the only visit within the window", "期間内の唯一の受診";
    LinkWhyPerson => "decided by a person", "人が判断";
    LinkWhyNoChartNumber => "no chart number in the path", "パスにカルテ番号がない";
    LinkWhyConflicting => "the paths give different chart numbers", "パスによってカルテ番号が異なる";
    LinkWhyUnknownPatient => "chart number not in the imported charts", "取り込んだカルテにないカルテ番号";
    LinkWhyNoDate => "no date", "日付がない";
    LinkWhyDatesDisagree => "EXIF and path dates disagree", "EXIF とパスの日付が食い違う";
    LinkWhyNoVisit => "no visit within the window", "期間内に受診がない";
    LinkWhySeveralVisits => "several visits, none that day", "複数の受診があり当日はない";
    KindVisit => "Visit", "受診";
    KindPathology => "Pathology", "病理";
    KindPrescription => "Prescription", "処方";
    KindTreatment => "Treatment", "処置";
    KindAdverseEvent => "Adverse event", "有害事象";
    KindNote => "Note", "経過";
    KindPhoto => "Photo", "写真";
    LinkQueue => "Link queue", "紐付け待ち";
    KeyLinkQueue => "Link queue: choose a photo, choose a visit, confirm it, unlink", "紐付け待ち: 写真を選ぶ、受診を選ぶ、確定、紐付け解除";
    LinkQueueHelp => "↑/↓ choose a photo, ←/→ or click choose a visit, Enter confirms it, U unlinks, Esc closes. Every decision is audited.", "↑/↓ で写真、←/→ またはクリックで受診を選び、Enter で確定、U で紐付け解除、Esc で閉じます。すべての判断は監査ログに残ります。";
    LinkQueueEmpty => "No link waits for a person.", "確認待ちの紐付けはありません。";
    LinksWaiting => "{n} links wait for a person", "確認待ちの紐付け {n} 件";
    OneLinkWaiting => "1 link waits for a person", "確認待ちの紐付け 1 件";
    PhotoDay => "Photo's day", "写真の日付";
    DateFromExif => "EXIF", "EXIF";
    DateFromPath => "path", "パス";
    DateFromFile => "file time", "ファイルの日時";
    CandidateVisits => "The patient's chart around that day", "その日前後の患者のカルテ";
    NoCandidates => "No chart rows to choose from: fix the link with a chart number and date, or unlink it.", "選べるカルテの行がありません。カルテ番号と日付で修正するか、紐付けを解除してください。";
    ConfirmLink => "Confirm this visit", "この受診で確定";
    UnlinkPhoto => "Unlink", "紐付け解除";
    FixLink => "Fix link", "紐付けを修正";
    FixLinkHelp => "Or link it by hand to another patient: type the chart number and the visit date.", "または別の患者に手動で紐付け: カルテ番号と受診日を入力してください。";
    ChartNumber => "Chart number", "カルテ番号";
    LinkSaved => "Photo {id}: {status}", "写真 {id}: {status}";
    Timeline => "Patient timeline", "患者の経過";
    TimelineNoPhoto => "Select a photo linked to a patient to see the patient's timeline.", "患者に紐付いた写真を選ぶと、その患者の経過が表示されます。";
    TimelineNotLinked => "This photo is not linked to a patient.", "この写真は患者に紐付いていません。";
    TimelineHeader => "{rid} · {sex} · age {age} at first record", "{rid} · {sex} · 初回記録時 {age} 歳";
    TimelineThisPhoto => "this photo", "この写真";
    SexMale => "male", "男性";
    SexFemale => "female", "女性";
    SexUnknown => "sex unknown", "性別不明";
    ChartImport => "Import charts…", "カルテを取り込む…";
    RunLinking => "Link photos to charts", "写真をカルテに紐付け";
    MenuModels => "Models", "モデル";
    ModelsWindow => "Registered models…", "登録済みのモデル…";
    ModelsHelp => "The models dermdesk can run, each with its card: what it was trained on, how a photo is made into its input, and what it measured. Research use only.", "dermdesk で実行できるモデルとそのカード (学習データ、写真の入力への変換、測定値)。研究用です。";
    ModelsUnreadable => "The registered models could not be read: {e}", "登録済みのモデルを読み込めませんでした: {e}";
    ModelBuiltIn => "built in", "組み込み";
    ModelResults => "{n} photo(s) with results", "結果のある写真 {n} 枚";
    CompareVersions => "Compare with an earlier version", "以前のバージョンと比較";
    CompareWith => "Earlier version:", "以前のバージョン:";
    CompareBoth => "{n} photo(s) looked at by both versions ({na} by {a} only, {nb} by {b} only).", "両バージョンが予測した写真 {n} 枚 ({a} のみ {na} 枚、{b} のみ {nb} 枚)。";
    CompareSameTop => "Same most probable class on {s} of {n} ({p}%).", "最も確率の高いクラスが同じ: {n} 枚中 {s} 枚 ({p}%)。";
    CompareNoChart => "None of these photos has a linked diagnosis to compare with.", "比較できる紐付いた診断のある写真はありません。";
    CompareAgree => "Agrees with the chart, of {n} photo(s) with a linked diagnosis: {a} on {x} ({px}%), {b} on {y} ({py}%); {g} now agree, {l} no longer.", "紐付いた診断のある写真 {n} 枚のうちカルテと一致: {a} は {x} 枚 ({px}%)、{b} は {y} 枚 ({py}%)。新たに一致 {g} 枚、一致しなくなった {l} 枚。";
    CompareChanged => "The answer changed on {n} photo(s):", "予測が変わった写真 {n} 枚:";
    CompareAgreesShort => "agrees", "一致";
    CompareShowInBrowser => "Show these photos in the browser", "これらの写真をブラウザに表示";
    ChangedBetweenFilter => "Answer changed: {m} {a} → {b}", "予測が変化: {m} {a} → {b}";
    CompareBothMasks => "{n} photo(s) with a mask of both versions ({na} by {a} only, {nb} by {b} only).", "両バージョンのマスクがある写真 {n} 枚 ({a} のみ {na} 枚、{b} のみ {nb} 枚)。";
    CompareDice => "Dice of the two masks: median {md}, mean {mn}, lowest {lo}; IoU mean {iou}.", "2 つのマスクの Dice: 中央値 {md}、平均 {mn}、最小 {lo}。IoU 平均 {iou}。";
    CompareMasksDiffer => "The masks differ (Dice below {t}) on {n} photo(s) (each mask's share of the photo):", "マスクが異なる写真 (Dice {t} 未満) {n} 枚 (写真に占めるマスクの割合):";
    CompareDisagreesShort => "disagrees", "不一致";
    ComparePhoto => "photo", "写真";
    CompareChart => "chart", "カルテ";
    CompareMore => "and {n} more (dermdesk models compare lists them all)", "ほか {n} 枚 (dermdesk models compare で全件を表示)";
    ModelTaskLine => "{task} · for {modalities} · added {at} by {by}", "{task} · 対象 {modalities} · {at} に {by} が追加";
    ModelInputLine => "Input “{name}”: {w}×{h} {layout} {colour}, {resize} ({interp}), mean {mean}, std {std}", "入力「{name}」: {w}×{h} {layout} {colour}、{resize} ({interp})、mean {mean}、std {std}";
    ModelColourConstancy => "Colour constancy before mean and std: {cc}", "mean・std の前に色恒常性補正: {cc}";
    ModelOutputLine => "Output “{name}”: {kind}", "出力「{name}」: {kind}";
    ModelLabels => "Labels", "ラベル";
    ModelTrainingData => "Training data", "学習データ";
    ModelLicence => "Licence", "ライセンス";
    ModelFigures => "Measured figures", "測定値";
    AddModelTitle => "Add a model of your own", "独自のモデルを追加";
    AddModelHelp => "Choose its card (card.toml); the card names the ONNX file beside it. The model is checked before it is added: it loads, its input and output match the card, and a test run gives sensible numbers.", "モデルカード (card.toml) を選んでください。カードがその隣の ONNX ファイルを指定します。追加の前に確認します: 読み込めること、入出力がカードと一致すること、テスト実行の結果が妥当であること。";
    ModelCardPath => "Model card", "モデルカード";
    CheckingModel => "Checking the model…", "モデルを確認しています…";
    ModelAdded => "Added {m} {v}.", "{m} {v} を追加しました。";
    ModelRefused => "Not added: {e}", "追加できません: {e}";
    RemoveModel => "Remove this version…", "この版を削除…";
    RemoveModelQuestion => "Remove {m} {v} and the {n} results it stored? Other versions keep theirs. This cannot be undone.", "{m} {v} と、この版が保存した {n} 件の結果を削除しますか？ ほかの版の結果は残ります。元に戻せません。";
    RemovingModel => "Removing…", "削除しています…";
    RemoveModelWait => "Wait until the running job has finished.", "実行中のジョブが終わるまでお待ちください。";
    ModelRemoved => "Removed {m} {v} and its {n} results.", "{m} {v} とその結果 {n} 件を削除しました。";
    ModelNotRemoved => "Not removed: {e}", "削除できません: {e}";
    ModelDisagreesFilter => "Model disagrees with chart", "モデルとカルテの診断が不一致";
    ModelDisagreesFilterHelp => "The classifier whose newest result is compared with the chart's (or pathology) diagnosis", "カルテ (病理) の診断と比べる分類モデル (最新の結果)";
    RunModels => "Run the models on cleared photos", "確認済みの写真にモデルを実行";
    JobInfer => "Running models", "モデル実行中";
    InferSummary => "{model} {version}: {inferred} photos, {skipped} not offered{why}, {failed} failed", "{model} {version}: {inferred} 枚を推論、{skipped} 枚は対象外{why}、{failed} 枚は失敗";
    JobChartImport => "Importing charts", "カルテ取り込み中";
    JobLinking => "Linking photos", "紐付け中";
    ChartFile => "File or SS-MIX2 folder", "ファイルまたは SS-MIX2 フォルダ";
    ChartImportHelp => "An EMR export (CSV, TSV, xlsx; UTF-8 or CP932) or an SS-MIX2 storage folder. Preview shows how it will be read; nothing is written until Import.", "電子カルテの書き出し (CSV、TSV、xlsx、UTF-8 または CP932) か SS-MIX2 標準化ストレージのフォルダ。プレビューで読み方を確認できます。取り込むまで何も書き込みません。";
    PreviewFile => "Preview", "プレビュー";
    BrowseFile => "Browse…", "参照…";
    Encoding => "Encoding", "文字コード";
    EncodingAuto => "detect", "自動判定";
    DetectedEncoding => "Read as {enc}, {format}", "{enc} ({format}) として読み込み";
    Columns => "Columns", "列";
    NotMapped => "—", "—";
    MapAuto => "(as the headers say)", "(見出しのとおり)";
    MapNone => "(no column: not read)", "(列なし: 読まない)";
    ImportTotal => "Import total", "取り込み結果";
    TotalRows => "Rows read", "読んだ行";
    TotalDuplicates => "Records already held (not added again)", "既存の記録 (追加せず)";
    TotalPatients => "New patients", "新規患者";
    NoMapping => "No mapping: {e}", "対応付けなし: {e}";
    FirstRows => "First rows", "先頭の行";
    BadRows => "Bad rows", "読めない行";
    NoBadRows => "No bad rows in the part read.", "読んだ範囲に読めない行はありません。";
    SsmixFolder => "An SS-MIX2 storage folder: its messages are read on import.", "SS-MIX2 標準化ストレージのフォルダです。取り込み時にメッセージを読み込みます。";
    ChartImportSummary => "Charts imported: {rows} rows, {new} new records, {dup} duplicates, {patients} new patients, {bad} bad rows", "カルテ取り込み完了: {rows} 行、新規記録 {new}、重複 {dup}、新規患者 {patients}、読めない行 {bad}";
    ChartAlreadyImported => "Already imported (same content); nothing changed", "取り込み済み (同じ内容) のため変更はありません";
    LinkSummary => "Linking: {photos} photos; {linked} linked, {queued} waiting for a person, {kept} kept as people decided", "紐付け: 写真 {photos} 枚、紐付け {linked}、確認待ち {queued}、人の判断を保持 {kept}";
    OfferLinking => "Charts imported. Link the photos to them now?", "カルテを取り込みました。写真を紐付けますか?";
    MenuFile => "File", "ファイル";
    MenuView => "View", "表示";
    MenuPhoto => "Photo", "写真";
    MenuHelp => "Help", "ヘルプ";
    AddFolder => "Add archive folder…", "アーカイブフォルダを追加…";
    Browse => "Browse…", "参照…";
    FolderPath => "Folder", "フォルダ";
    AddFolderHelp => "Type or paste a folder path (a network share works too), or browse for one. Every photo below it is imported; the originals are only read.", "フォルダのパスを入力または貼り付けるか (ネットワーク共有も可)、参照して選んでください。その下のすべての写真を取り込みます。元のファイルは読むだけです。";
    NotAFolder => "No such folder", "フォルダが見つかりません";
    Import => "Import", "取り込む";
    ResumeImports => "Resume interrupted imports", "中断した取り込みを再開";
    MakeThumbnails => "Make missing thumbnails", "不足しているサムネイルを作成";
    Refresh => "Refresh", "再読み込み";
    Quit => "Quit", "終了";
    CommandPalette => "Command palette…", "コマンドパレット…";
    ImportLog => "Import log", "取り込みログ";
    ModalityRules => "Modality rules", "モダリティ規則";
    Details => "Details panel", "詳細パネル";
    Filters => "Filters", "フィルター";
    ToggleLanguage => "日本語 / English", "日本語 / English";
    Language => "Language", "言語";
    OpenPhoto => "Open photo", "写真を開く";
    CloseViewer => "Back to the grid", "一覧に戻る";
    NextPhoto => "Next photo", "次の写真";
    PrevPhoto => "Previous photo", "前の写真";
    SelectAll => "Select all", "すべて選択";
    ClearSelection => "Clear selection", "選択を解除";
    ZoomIn => "Zoom in", "拡大";
    ZoomOut => "Zoom out", "縮小";
    ZoomFit => "Fit to window", "ウィンドウに合わせる";
    ZoomActual => "Actual pixels (100%)", "等倍 (100%)";
    ClearFilters => "Clear filters", "フィルターを解除";
    FocusSearch => "Search paths", "パスを検索";
    SetModalityTo => "Set modality: {m}", "モダリティを設定: {m}";
    LargerThumbs => "Larger thumbnails", "サムネイルを大きく";
    SmallerThumbs => "Smaller thumbnails", "サムネイルを小さく";
    Modality => "Modality", "モダリティ";
    Clinical => "Clinical", "臨床写真";
    Dermoscopy => "Dermoscopy", "ダーモスコピー";
    Visia => "VISIA", "VISIA";
    Histopathology => "Histopathology", "病理組織";
    Other => "Other", "その他";
    SourceRule => "folder rule", "フォルダ規則";
    SourceCue => "image cue", "画像の手がかり";
    SourcePerson => "set by hand", "手動設定";
    CapturedFrom => "Captured from", "撮影日 (から)";
    CapturedTo => "to", "まで";
    DateHint => "YYYY[-MM[-DD]]", "YYYY[-MM[-DD]]";
    BadDate => "Not a date: use YYYY, YYYY-MM or YYYY-MM-DD (ignored until it is one)", "日付ではありません: YYYY、YYYY-MM、YYYY-MM-DD のいずれかで入力してください (正しい日付になるまで無視します)";
    UseFileDates => "Use file times where no capture date is known", "撮影日時が不明な写真はファイルの日時を使う";
    UseFileDatesHelp => "A file's time is when it was last written (often when the archive was copied), not when the photo was taken.", "ファイルの日時は最後に書き込まれた日時 (多くはアーカイブをコピーした日時) で、撮影日時ではありません。";
    FileTimeOnly => "{t} (file time, not a capture date)", "{t} (ファイルの日時。撮影日時ではありません)";
    FileTimeHelp => "This photo has no capture date in its EXIF; this is its file's modification time, which is often when it was copied.", "この写真の EXIF には撮影日時がありません。これはファイルの更新日時で、多くはコピーした日時です。";
    Scanning => "{found} found, {done} done…", "{found} 件検出、{done} 件処理…";
    NoPhotosFound => "No photos found in {path}", "{path} に写真は見つかりませんでした";
    OnePhotoShown => "1 photo", "1 枚";
    Undone => "Undone", "元に戻しました";
    NothingToUndo => "Nothing to undo", "元に戻す操作はありません";
    Undo => "Undo modality change", "モダリティの変更を元に戻す";
    ResetModality => "Reset modality to automatic", "モダリティを自動判定に戻す";
    ResetShort => "Automatic", "自動に戻す";
    Shortcuts => "Keyboard shortcuts", "キーボードショートカット";
    KeyMove => "Move the focus (the selection follows)", "フォーカスを移動 (選択も移動)";
    KeyExtend => "Extend the selection", "選択範囲を広げる";
    KeyCtrlMove => "Move the focus without changing the selection; Ctrl+Space adds or removes", "選択を変えずにフォーカスを移動。Ctrl+Space で追加・解除";
    KeyToggle => "Add or remove the focused photo", "フォーカスのある写真を選択・解除";
    KeyOpen => "Open the focused photo", "フォーカスのある写真を開く";
    KeyEsc => "Close the topmost window, leave the viewer, or clear the selection", "最前面のウィンドウを閉じる、ビューアを閉じる、または選択を解除";
    KeyZoom => "Zoom in and out (thumbnails in the grid)", "拡大・縮小 (一覧ではサムネイル)";
    KeyFit => "Viewer: fit to window / actual pixels", "ビューア: ウィンドウに合わせる / 等倍";
    ExportCsv => "Export CSV", "CSV に書き出す";
    ExportTo => "Export to", "書き出し先";
    Exported => "{n} refused files written to {path}", "拒否されたファイル {n} 件を {path} に書き出しました";
    Folders => "Folders", "フォルダ";
    ReasonDetail => "Decoder's message", "デコーダーのメッセージ";
    RulesUnreadable => "The rules could not be read: {e}", "規則を読み込めませんでした: {e}";
    Retry => "Try again", "再試行";
    RulesSaveHelp => "Save applies the rules now: every photo not set by hand gets the modality the rules (then its image cues) give it. New rules start switched off, and rules with an empty pattern are not saved.", "保存すると規則をすぐに適用します: 手動で設定していないすべての写真のモダリティを、規則 (次に画像の手がかり) に従って決め直します。新しい規則は無効の状態で追加され、パターンが空の規則は保存されません。";
    WhyRule => "folder rule: {p}", "フォルダ規則: {p}";
    WhyPerson => "set by hand ({who})", "手動設定 ({who})";
    CueVisia => "VISIA frame size {w}×{h}", "VISIA の画像サイズ {w}×{h}";
    CueTooSmall => "too small for a clinical image ({w}×{h})", "臨床画像としては小さすぎる ({w}×{h})";
    CueColourless => "{p}% of the pixels have no colour", "画素の {p}% が無彩色";
    CueHAndE => "H&E staining: blue over green {bg}, eosin pink {pink}%, texture {tex}", "H&E 染色: 青み {bg}、エオシンのピンク {pink}%、きめ {tex}";
    CueRoundField => "dark round field of contact dermoscopy (corners at {p}% of skin brightness)", "接触型ダーモスコピーの暗い円形視野 (四隅は皮膚の明るさの {p}%)";
    CueNoSkin => "no skin-coloured pixels", "肌色の画素がない";
    CueEvenLight => "even lighting and a dark lesion in the centre (score {s})", "均一な照明と中央の暗い病変 (スコア {s})";
    CueUnevenLight => "uneven lighting or a small lesion (score {s})", "不均一な照明または小さい病変 (スコア {s})";
    SourceModel => "modality model", "モダリティ判定モデル";
    WhyModel => "modality model {m}: {p}% sure", "モダリティ判定モデル {m}: 確信度 {p}%";
    ModelUnsure => "{why} (the modality model was unsure: {m} at {p}%, so the image cues decided)", "{why} (モダリティ判定モデルの確信度が低いため画像の手がかりで判定: {m} {p}%)";
    CueModel => "modality model's guess", "モダリティ判定モデルの推定";
    CueGrey => "Colourless pixels", "無彩色の画素";
    CueVig => "Corner darkness (vignette)", "四隅の暗さ (周辺減光)";
    CueSkin => "Skin-coloured pixels", "肌色の画素";
    CueSkinIn => "Skin-coloured, inside the oval", "楕円内の肌色の画素";
    CueBmg => "Blue over green (haematoxylin)", "緑に対する青み (ヘマトキシリン)";
    CuePink => "Eosin-pink pixels", "エオシンのピンクの画素";
    CueTexture => "Fine texture", "細かいきめ";
    CueAsym => "Uneven lighting", "照明のむら";
    CueCentreDark => "Darker centre", "中央の暗さ";
    ActImport => "imported", "取り込み";
    ActLocationAdded => "found at another path", "別の場所で検出";
    ActLocationMissing => "file missing", "ファイルが見つからない";
    ActLocationRepointed => "file content changed", "ファイルの内容が変化";
    ActSetModality => "modality set by hand", "モダリティを手動設定";
    ActResetModality => "modality back to automatic", "モダリティを自動判定に戻す";
    ActUndoModality => "modality change undone", "モダリティの変更を取り消し";
    ActReapplyModality => "modality re-decided by the rules", "規則でモダリティを再判定";
    Status => "Files", "ファイルの有無";
    StatusAll => "All", "すべて";
    StatusPresent => "Present", "あり";
    StatusMissing => "Missing", "見つからない";
    PathContains => "Path contains", "パスに含む";
    SortBy => "Sort by", "並べ替え";
    SortCaptured => "Capture time", "撮影日時";
    SortImported => "Import order", "取り込み順";
    SortName => "File name", "ファイル名";
    SortPixels => "Pixel count", "画素数";
    SortModality => "Modality", "モダリティ";
    Descending => "Descending", "降順";
    PhotosShown => "{n} photos", "{n} 枚";
    PhotosSelected => "{n} selected", "{n} 枚選択中";
    Loading => "Loading…", "読み込み中…";
    EmptyTitle => "No photos yet", "写真はまだありません";
    EmptyBody => "Add a folder of photos to start. dermdesk reads them where they are and never changes them.", "写真のフォルダを追加してください。dermdesk は写真をその場で読み込み、元のファイルを変更しません。";
    NoMatch => "No photo matches the filters.", "条件に合う写真はありません。";
    Cancel => "Cancel", "キャンセル";
    Close => "Close", "閉じる";
    Save => "Save", "保存";
    Add => "Add", "追加";
    Remove => "Remove", "削除";
    Enabled => "On", "有効";
    Pattern => "Folder pattern", "フォルダのパターン";
    RulesHelp => "The first enabled rule that matches a folder on a photo's path decides its modality. * matches anything; case is ignored. Photos set by hand are never changed.", "写真のパス上のフォルダに最初に一致した有効な規則がモダリティを決めます。* は任意の文字列に一致し、大文字小文字は区別しません。手動で設定した写真は変更されません。";
    VisiaSizes => "VISIA frame sizes", "VISIA の画像サイズ";
    RulesSaved => "Rules saved; {n} photos changed modality", "規則を保存しました。{n} 枚のモダリティが変わりました";
    JobImport => "Importing", "取り込み中";
    JobThumbs => "Making thumbnails", "サムネイル作成中";
    JobDone => "{name}: done", "{name}: 完了";
    JobFailed => "{name} failed: {e}", "{name} 失敗: {e}";
    ImportSummary => "Import finished: {new} new, {loc} new locations ({moved} moved), {refused} refused, {missing} missing", "取り込み完了: 新規 {new}、新しい場所 {loc} (移動 {moved})、拒否 {refused}、見つからない {missing}";
    ImportCancelled => "Import cancelled; what was imported is kept", "取り込みをキャンセルしました。取り込み済みの分は保持されます";
    ThumbSummary => "Thumbnails: {made} made, {failed} failed", "サムネイル: 作成 {made}、失敗 {failed}";
    InterruptedRuns => "{n} interrupted import(s) can be resumed", "中断した取り込みが {n} 件あります (再開できます)";
    Resume => "Resume", "再開";
    Runs => "Import runs", "取り込み履歴";
    Refused => "Refused files", "拒否されたファイル";
    Reason => "Reason", "理由";
    File => "File", "ファイル";
    Started => "Started", "開始";
    RunStatus => "Status", "状態";
    Counts => "New / locations / unchanged / refused / missing", "新規 / 場所 / 変更なし / 拒否 / 見つからない";
    Size => "Size", "サイズ";
    Format => "Format", "形式";
    Captured => "Captured", "撮影日時";
    Camera => "Camera", "カメラ";
    Orientation => "Orientation", "向き";
    Hash => "Content hash", "内容ハッシュ";
    Locations => "File locations", "ファイルの場所";
    MissingSince => "missing since {t}", "{t} から見つからない";
    Exif => "EXIF", "EXIF";
    NoExif => "No EXIF", "EXIF なし";
    ExifThumbnailIfd => "thumbnail", "サムネイル";
    Cues => "Image cues", "画像の手がかり";
    History => "History", "履歴";
    NothingSelected => "Select a photo to see its details.", "写真を選択すると詳細が表示されます。";
    Zoom => "Zoom {z}%", "ズーム {z}%";
    DecodingFull => "Decoding at full resolution…", "フル解像度で読み込み中…";
    FileMissing => "None of this photo's files can be found.", "この写真のファイルが見つかりません。";
    ViewerError => "Cannot show this photo: {e}", "この写真を表示できません: {e}";
    PaletteHint => "Type to filter commands", "コマンドを絞り込む";
    DatabaseError => "The database cannot be opened", "データベースを開けません";
    DatabaseDamaged => "The database is damaged; nothing will be written to it. Restore it from a backup: {e}", "データベースが破損しています。書き込みは行いません。バックアップから復元してください: {e}";
    DemoImporting => "Importing the demo archive…", "デモ用アーカイブを取り込み中…";
    Undated => "undated", "日付なし";
    ReasonEmpty => "empty file", "空のファイル";
    ReasonNotImage => "not an image", "画像ではない";
    ReasonUnsupported => "unsupported format", "未対応の形式";
    ReasonTruncated => "truncated", "途中で切れている";
    ReasonCorrupt => "damaged", "破損";
    ReasonTooLarge => "too large", "大きすぎる";
    ReasonUnreadable => "unreadable", "読めない";
    ReasonTimeout => "took too long", "時間切れ";
    ReasonCrashed => "decoder crashed", "デコーダー異常終了";
    RunRunning => "running", "実行中";
    RunFinished => "finished", "完了";
    RunCancelled => "cancelled", "キャンセル";
    RunInterrupted => "interrupted", "中断";
    RunFailed => "failed", "失敗";
    Annotate => "Draw lesion masks", "病変マスクを描く";
    CloseAnnotator => "Close the mask panel", "マスクパネルを閉じる";
    ReviewQueue => "Mask review queue", "マスクのレビュー待ち";
    ToolBrush => "Brush", "ブラシ";
    ToolEraser => "Eraser", "消しゴム";
    ToolPolygon => "Polygon", "多角形";
    ToolLasso => "Lasso", "投げ縄";
    ToolWand => "Magic wand", "自動選択";
    ToolSmart => "Smart (click or box)", "スマート (クリックまたは枠)";
    ToolPan => "Pan (hold Space)", "移動 (Space 長押し)";
    BrushBigger => "Larger brush", "ブラシを大きく";
    BrushSmaller => "Smaller brush", "ブラシを小さく";
    MaskUndo => "Undo (mask)", "元に戻す (マスク)";
    MaskRedo => "Redo (mask)", "やり直す (マスク)";
    NewLesion => "New lesion", "新しい病変";
    FillHoles => "Fill holes", "穴を埋める";
    ProposeLesion => "Propose lesion (model)", "病変を提案 (モデル)";
    Proposing => "The segmentation model is looking for the lesion…", "セグメンテーションモデルが病変を探しています…";
    Proposed => "{model} {version} proposed this mask ({n} px): keep it, edit it, or undo it (Ctrl+Z). Research use only.", "{model} {version} がこのマスクを提案しました ({n} px)。そのまま使う、編集する、または元に戻す (Ctrl+Z)。研究用です。";
    ProposedNothing => "{model} {version} found no lesion on this photo.", "{model} {version} はこの写真に病変を見つけませんでした。";
    NoSegmenter => "No segmentation model is registered (see Models, or `dermdesk models add`).", "セグメンテーションモデルが登録されていません (モデル、または `dermdesk models add` を参照)。";
    ProposeFailed => "The model could not propose a mask: {e}", "モデルはマスクを提案できませんでした: {e}";
    HeatmapShow => "Show what the model looked at", "モデルが注目した部分を表示";
    HeatmapHide => "Hide what the model looked at", "モデルが注目した部分を隠す";
    HeatmapComputing => "Covering parts of the photo to see what the model looked at…", "写真の一部を隠して、モデルが注目した部分を調べています…";
    HeatmapFailed => "Could not show what the model looked at: {e}", "モデルが注目した部分を表示できませんでした: {e}";
    HeatmapTitle => "What the model looked at: {class} ({p}%)", "モデルが注目した部分: {class} ({p}%)";
    HeatmapMax => "{d} points less when covered", "隠すと {d} ポイント低下";
    HeatmapLegend => "{model} {version}: brighter where covering the photo lowers this class's probability more. Research use only.", "{model} {version}: 明るいほど、その部分を隠したときにこのクラスの確率が大きく下がります。研究用です。";
    JobHeatmap => "What the model looked at", "モデルが注目した部分";
    OutlineOnly => "Outline only", "輪郭のみ";
    Opacity => "Opacity", "不透明度";
    BrushSize => "Brush {n} px", "ブラシ {n} px";
    Tolerance => "Tolerance", "許容値";
    Lesions => "Lesions", "病変";
    NoLesions => "No lesion yet: draw on the photo, or press N.", "病変はまだありません。写真に描くか N を押してください。";
    ShowAll => "Show all", "すべて表示";
    HideAll => "Hide all", "すべて隠す";
    FromTaxonomy => "From the diagnosis taxonomy:", "診断分類から:";
    LesionLabel => "Label", "ラベル";
    LesionNote => "Note", "メモ";
    Apply => "Apply", "適用";
    DeleteLesion => "Delete lesion", "病変を削除";
    Pixels => "{n} px", "{n} px";
    Unsaved => "saving…", "保存中…";
    AllSaved => "saved", "保存済み";
    MaskStatusDraft => "draft", "下書き";
    MaskStatusSubmitted => "submitted", "提出済み";
    MaskStatusApproved => "approved", "承認済み";
    MaskStatusReturned => "returned", "差し戻し";
    Submit => "Submit for review", "レビューに提出";
    Reopen => "Reopen", "再編集";
    Approve => "Approve", "承認";
    ReturnMask => "Return", "差し戻す";
    ReviewComment => "Comment (what to fix)", "コメント (修正点)";
    ReviewerRole => "Your role", "あなたの役割";
    RoleDermatologist => "Dermatologist", "皮膚科医";
    RoleResident => "Resident", "専攻医";
    RoleResearchAssistant => "Research assistant", "研究補助員";
    OwnMask => "You drew this mask; someone else reviews it.", "このマスクはあなたが描いたため、別の人がレビューします。";
    DrawnBy => "by {who}", "作成: {who}";
    QueueEmpty => "Nothing waits for review.", "レビュー待ちはありません。";
    LoadingPhoto => "Loading the photo at full resolution…", "写真をフル解像度で読み込み中…";
    PolygonHint => "Click points; double-click or Enter closes, Esc cancels", "クリックで頂点、ダブルクリックまたは Enter で閉じる、Esc で取消";
    LassoHint => "Drag around the lesion", "病変を囲むようにドラッグ";
    WandHint => "Click the lesion; Alt+click takes away", "病変をクリック、Alt+クリックで削除";
    SmartHint => "Click the lesion, or drag a box around it", "病変をクリック、または枠で囲む";
    BrushHint => "Drag to paint; [ ] size; Space pans", "ドラッグで塗る、[ ] でサイズ、Space で移動";
    ScreenPhotos => "Screen photos…", "写真をスクリーニング…";
    RedetectModality => "Sort modalities with the modality model", "モダリティ判定モデルでモダリティを判定し直す";
    JobRedetect => "Sorting modalities", "モダリティを判定中";
    RedetectSummary => "Modality model: {n} photos examined, {c} changed (modality or its source), {f} could not be read", "モダリティ判定モデル: {n} 枚を判定、{c} 枚の判定 (モダリティまたは判定元) が変わりました、読めなかった写真 {f} 枚";
    RedetectCancelled => "Modality sorting cancelled after {n} photos; what was sorted is kept", "モダリティ判定を {n} 枚でキャンセルしました。済んだ分は保持されます";
    JobScreen => "Screening", "スクリーニング中";
    ScreenSummary => "Screening finished: {n} screened ({i} identifiable, {u} unsure, {c} clear), {f} could not be screened", "スクリーニング完了: {n} 枚 (識別可能 {i}、要確認 {u}、識別情報なし {c})、スクリーニングできなかった写真 {f} 枚";
    ScreenCancelled => "Screening cancelled after {n} photos; what was screened is kept", "スクリーニングを {n} 枚でキャンセルしました。済んだ分は保持されます";
    ScreenRunning => "Screening is already running", "スクリーニングはすでに実行中です";
    PrivacyReview => "Privacy review", "プライバシー確認";
    PvClear => "Clear: nothing identifies the patient", "問題なし: 患者を識別できない";
    PvExclude => "Exclude: never leaves", "除外: 使用しない";
    PvRedact => "Redact: cover the found boxes, then mark redacted", "黒塗り: 検出箇所を覆って黒塗り済みにする";
    PvRedactAsDrawn => "Redact as drawn: mark redacted with the shapes on the photo, adding nothing", "描いたとおりに黒塗り: 写真上の図形だけで黒塗り済みにする (追加なし)";
    PvAcceptFound => "Accept found boxes: add them as redactions to adjust, deciding nothing", "検出枠を採用: 黒塗り図形として追加 (判定はせず、調整できます)";
    PvToolRect => "Draw rectangles", "四角を描く";
    PvToolPolygon => "Draw polygons", "多角形を描く";
    PvToolCrop => "Crop to the lesion", "病変に合わせて切り抜く";
    PvToggleFill => "Fill: black / pixelate (the selected shape and the next ones)", "塗り: 黒 / モザイク (選択中の図形とこれから描く図形)";
    PvRemoveSelected => "Remove the selected shape", "選択中の図形を削除";
    PvPolygonHint => "Click the corners; Enter, a double-click or the first corner closes; Backspace takes one back; Esc cancels", "クリックで頂点、Enter・ダブルクリック・最初の頂点で閉じる、Backspace で 1 つ戻す、Esc で取消";
    PvRectHint => "Drag on the photo to add a rectangle; click a shape to select it, drag its handles to adjust it", "写真上をドラッグして四角を追加。図形をクリックで選択し、ハンドルをドラッグして調整";
    PvCropHint => "Drag around the lesion: only what is inside leaves", "病変を囲むようにドラッグ: 内側だけが書き出されます";
    PvAccepted => "Found boxes added as redactions", "検出枠を黒塗り図形として追加しました";
    PvPolygonAdded => "Polygon added", "多角形を追加しました";
    PvAllCovered => "Every box found is covered already", "検出枠はすべて覆われています";
    PvShapeUndone => "Shape change undone", "図形の変更を取り消しました";
    PvCropSet => "Crop set", "切り抜きを設定しました";
    PvShapeChanged => "Shape changed", "図形を変更しました";
    PvShapeRemoved => "Shape removed", "図形を削除しました";
    PvPolygonShort => "A polygon needs three corners at least", "多角形には 3 つ以上の頂点が必要です";
    PvNothingDrawn => "No shape on this photo yet: draw one, or press R to cover what was found", "この写真にはまだ図形がありません。描くか、R で検出箇所を覆ってください";
    PvMinScore => "Min. score", "最低スコア";
    PvAccept => "Accept", "採用";
    PvFill => "Fill", "塗り";
    FillBlack => "black", "黒";
    FillPixelate => "pixelate", "モザイク";
    PvCrop => "crop", "切り抜き";
    PvPolygonShape => "polygon", "多角形";
    PvRectShape => "rectangle", "四角";
    DetFace => "Faces (CenterFace)", "顔 (CenterFace)";
    DetText => "Text (PP-OCRv5)", "文字 (PP-OCRv5)";
    DetMetadata => "Metadata", "メタデータ";
    PvDrawKeys => "B rectangle · P polygon · L crop · F black/pixelate · A accept found · Shift+R redact as drawn · Delete remove shape", "B 四角 · P 多角形 · L 切り抜き · F 黒/モザイク · A 検出枠を採用 · Shift+R 描いたとおりに黒塗り · Delete 図形を削除";
    KeyPvPolygon => "Privacy review, polygon: Enter, double-click or the first corner closes; Backspace takes a corner back; Esc cancels", "プライバシー確認・多角形: Enter・ダブルクリック・最初の頂点で閉じる、Backspace で頂点を戻す、Esc で取消";
    KeyPvHandles => "Privacy review: click a shape, drag its corners or edges to resize, its inside to move; Esc deselects", "プライバシー確認: 図形をクリックし、角や辺をドラッグで大きさ、内側のドラッグで移動、Esc で選択解除";
    PvNext => "Skip to the next photo", "スキップして次の写真へ";
    PvPrev => "Back to the previous photo", "前の写真に戻る";
    PvUndo => "Undo the last privacy decision", "直前のプライバシー判定を取り消す";
    PvGrid => "Grid of thumbnails / one photo", "サムネイル一覧 / 1 枚表示";
    PvCheck => "Tick or untick the current photo", "現在の写真のチェックを切り替え";
    PvCheckAll => "Tick every photo shown", "表示中の写真をすべてチェック";
    PvReload => "Reload the queue", "一覧を再読み込み";
    VerdictIdentifiable => "identifiable", "識別可能";
    VerdictUnsure => "unsure", "要確認";
    VerdictClear => "nothing found", "検出なし";
    ReviewPending => "pending", "未判定";
    ReviewCleared => "cleared", "問題なし";
    ReviewExcluded => "excluded", "除外";
    ReviewRedacted => "redacted", "黒塗り済み";
    KindFace => "Face", "顔";
    KindText => "Text", "文字";
    KindMetadata => "Metadata", "メタデータ";
    Any => "Any", "すべて";
    PvVerdict => "Verdict", "判定";
    PvKind => "Detector", "検出器";
    PvShow => "Show", "表示";
    PvEmpty => "Nothing waits for a privacy review. Photos appear here once screened (Photo → Screen photos…).", "プライバシー確認待ちの写真はありません。スクリーニングすると表示されます (写真 → 写真をスクリーニング…)。";
    PvFindings => "Findings", "検出結果";
    PvNoFindings => "No detector found anything. Look at the whole photo before clearing it.", "検出器は何も見つけませんでした。写真全体を確認してから判断してください。";
    PvRedactions => "Redactions", "黒塗り";
    PvDrawHint => "Draw on the photo", "写真上に描く";
    PvNothingToRedact => "No face or text box to black out: drag a rectangle on the photo first", "黒塗りする顔や文字の枠がありません。先に写真上で四角をドラッグしてください";
    PvDecided => "{what}: {n} photo(s)", "{what}: {n} 枚";
    PvPosition => "{i} of {n}", "{n} 枚中 {i} 枚目";
    PvTicked => "{n} ticked", "{n} 枚チェック中";
    PvUndone => "Decision undone: {n} photo(s) back to pending", "判定を取り消しました: {n} 枚を未判定に戻しました";
    PvRectAdded => "Rectangle added", "四角を追加しました";
    PvKeys => "C clear · X exclude · R redact · S or → next · ← previous · Ctrl+Z undo · G grid · Esc close", "C 問題なし · X 除外 · R 黒塗り · S または → 次へ · ← 前へ · Ctrl+Z 取り消し · G 一覧 · Esc 閉じる";
    PvGridKeys => "Click a photo to make it current · Space ticks it · Ctrl+A ticks all · C clears and X excludes every ticked photo", "クリックで選択 · Space でチェック · Ctrl+A ですべてチェック · C / X はチェックした写真すべてに適用";
    PvReviewer => "{review} by {who}", "{review} ({who})";
    PvScore => "score {s}", "スコア {s}";
    LevelIdentifying => "identifying", "識別につながる";
    LevelClear => "not identifying", "識別につながらない";
    KeyPrivacyStep => "Privacy review: next / previous photo", "プライバシー確認: 次 / 前の写真";
}

/// The display name of a refusal reason. An exhaustive match: a new code does not compile
/// until it has a name here.
pub fn reason(code: RefusalCode) -> T {
    match code {
        RefusalCode::Empty => T::ReasonEmpty,
        RefusalCode::NotImage => T::ReasonNotImage,
        RefusalCode::Unsupported => T::ReasonUnsupported,
        RefusalCode::Truncated => T::ReasonTruncated,
        RefusalCode::Corrupt => T::ReasonCorrupt,
        RefusalCode::TooLarge => T::ReasonTooLarge,
        RefusalCode::Unreadable => T::ReasonUnreadable,
        RefusalCode::Timeout => T::ReasonTimeout,
        RefusalCode::Crashed => T::ReasonCrashed,
    }
}

/// The display name of an import run's status.
pub fn run_status(status: RunStatus) -> T {
    match status {
        RunStatus::Running => T::RunRunning,
        RunStatus::Finished => T::RunFinished,
        RunStatus::Cancelled => T::RunCancelled,
        RunStatus::Interrupted => T::RunInterrupted,
        RunStatus::Failed => T::RunFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_has_both_languages() {
        for k in T::ALL {
            assert!(!k.en().trim().is_empty(), "{k:?} has no English");
            assert!(!k.ja().trim().is_empty(), "{k:?} has no Japanese");
        }
    }

    #[test]
    fn holes_are_filled() {
        assert_eq!(Lang::En.f(T::PhotosShown, &[("n", &12)]), "12 photos");
        assert_eq!(Lang::Ja.f(T::PhotosShown, &[("n", &12)]), "12 枚");
    }
}
