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
    DateHint => "YYYY-MM-DD", "YYYY-MM-DD";
    BadDate => "Dates are YYYY-MM-DD", "日付は YYYY-MM-DD 形式です";
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
    RulesHelp => "The first matching rule decides the modality of newly imported photos. * matches anything; case is ignored. Photos set by hand are never changed.", "最初に一致した規則が新しく取り込む写真のモダリティを決めます。* は任意の文字列に一致し、大文字小文字は区別しません。手動で設定した写真は変更されません。";
    VisiaSizes => "VISIA frame sizes", "VISIA の画像サイズ";
    RulesSaved => "Rules saved", "規則を保存しました";
    JobImport => "Importing", "取り込み中";
    JobThumbs => "Making thumbnails", "サムネイル作成中";
    JobDone => "{name}: done", "{name}: 完了";
    JobFailed => "{name} failed: {e}", "{name} 失敗: {e}";
    ImportSummary => "Import finished: {new} new, {loc} new locations, {refused} refused, {missing} missing", "取り込み完了: 新規 {new}、新しい場所 {loc}、拒否 {refused}、見つからない {missing}";
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
    DemoImporting => "Importing the demo archive…", "デモ用アーカイブを取り込み中…";
    Keys => "Keyboard: arrows move, Enter opens, Space selects, Ctrl+A all, Esc back, +/− zoom, 0 fit, 1 100%, Ctrl+Shift+P commands", "キーボード: 矢印で移動、Enter で開く、Space で選択、Ctrl+A ですべて、Esc で戻る、+/− で拡大縮小、0 で全体、1 で等倍、Ctrl+Shift+P でコマンド";
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
    Undo => "Undo", "元に戻す";
    Redo => "Redo", "やり直す";
    NewLesion => "New lesion", "新しい病変";
    FillHoles => "Fill holes", "穴を埋める";
    OutlineOnly => "Outline only", "輪郭のみ";
    Opacity => "Opacity", "不透明度";
    BrushSize => "Brush {n} px", "ブラシ {n} px";
    Tolerance => "Tolerance", "許容値";
    Lesions => "Lesions", "病変";
    NoLesions => "No lesion yet: draw on the photo, or press N.", "病変はまだありません。写真に描くか N を押してください。";
    ShowAll => "Show all", "すべて表示";
    HideAll => "Hide all", "すべて隠す";
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
