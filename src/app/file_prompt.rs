//! Files in and out of the window: the in-window file prompt behind Open…, Save…, Export session…, Open recording…
//! and Save recording…, and files dropped onto the window.
//!
//! Why a prompt of our own rather than the native dialog alone: the native dialog (rfd, through the XDG desktop
//! portal) is missing on many of the machines SRE training runs on — a bare X11 session, a VM, a remote desktop
//! without `xdg-desktop-portal` — and there it returns nothing, exactly as if the user had cancelled, so a toolbar
//! button that only opened it did nothing at all. The prompt always works: a path field (Enter confirms), checked
//! before anything is read or written, with the reason shown in the prompt; "Browse…" still offers the native
//! dialog where there is one. The native dialog runs on its own thread, so the window keeps drawing (and the
//! simulation keeps showing) while it is open.
//!
//! Contract: nothing here reads or writes a file except through the same loaders and savers the toolbar always used
//! (`scenario::load_file` / `save_file`, `Recording::load_file`, the worker's atomic export and recording writes), so
//! every file a user gives us is validated with a message that names the place, and a refused file loses nothing:
//! the current run goes on and the prompt stays open with the path to correct.

use std::path::{Path, PathBuf};

use crossbeam_channel::{Receiver, TryRecvError};

use crate::runner::Command;
use crate::scenario;

use super::{HirlApp, Notice};

/// What a prompt does with its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAction {
    OpenScenario,
    SaveScenario,
    ExportSession,
    OpenRecording,
    SaveRecording,
}

impl FileAction {
    /// The prompt's title.
    pub fn title(self) -> &'static str {
        match self {
            FileAction::OpenScenario => "Open a scenario",
            FileAction::SaveScenario => "Save the scenario",
            FileAction::ExportSession => "Export the session as a scenario",
            FileAction::OpenRecording => "Open a recording",
            FileAction::SaveRecording => "Save a recording",
        }
    }

    /// The confirming button's label.
    pub fn verb(self) -> &'static str {
        match self {
            FileAction::OpenScenario | FileAction::OpenRecording => "Open",
            FileAction::SaveScenario | FileAction::SaveRecording => "Save",
            FileAction::ExportSession => "Export",
        }
    }

    fn writes(self) -> bool {
        !matches!(self, FileAction::OpenScenario | FileAction::OpenRecording)
    }

    fn is_recording(self) -> bool {
        matches!(self, FileAction::OpenRecording | FileAction::SaveRecording)
    }

    /// The file name a new file is offered under, from the scenario's name: never the name of the file it came
    /// from (the shipped files carry comments a save would drop) nor of a shipped recording.
    fn default_name(self, scenario_name: &str) -> String {
        let mut stem = String::new();
        for c in scenario_name.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '-' };
            if !(c == '-' && stem.ends_with('-')) {
                stem.push(c);
            }
        }
        let stem = if stem.trim_matches('-').is_empty() { "scenario" } else { stem.trim_matches('-') };
        match self {
            FileAction::SaveScenario => format!("{stem}-copy.ron"),
            FileAction::ExportSession => format!("{stem}-session.ron"),
            FileAction::SaveRecording => format!("{stem}-incident.rec.ron"),
            FileAction::OpenScenario | FileAction::OpenRecording => String::new(),
        }
    }

    /// What the prompt says under the path, before anything is typed.
    fn help(self) -> &'static str {
        match self {
            FileAction::OpenScenario => {
                "A scenario file (RON). A broken file is refused with the line and the reason; the run goes on."
            }
            FileAction::SaveScenario => {
                "The scenario the runs use, without the events injected since (Export adds them); a what-if keeps \
                 its own limits to put back. RON, written atomically."
            }
            FileAction::ExportSession => {
                "The loaded scenario with every event injected so far added to its events, so it replays them."
            }
            FileAction::OpenRecording => {
                "A recording (*.rec.ron): replayed bit for bit, side by side if it was recorded so. One made with \
                 other models or another scenario is refused with the reason; the run goes on."
            }
            FileAction::SaveRecording => {
                "The session so far: scenario, seed, policies, every injection and checkpoint digests (RON)."
            }
        }
    }
}

/// The in-window file prompt. Closed when `action` is `None`.
#[derive(Default)]
pub struct FilePrompt {
    action: Option<FileAction>,
    /// The path being edited.
    path: String,
    /// Why the last confirm was refused, shown in the prompt until the path changes.
    error: Option<String>,
    /// The native dialog, while it is open on its own thread: `Some(path)` chosen, `None` cancelled or unavailable.
    browsing: Option<Receiver<Option<PathBuf>>>,
    /// The native dialog came back with nothing: it was cancelled, or there is none on this desktop.
    browse_returned_nothing: bool,
    /// Where the last file was opened or written, so the next prompt starts there.
    last_dir: Option<PathBuf>,
    /// Set when the prompt opens: the path field takes the keyboard on its first frame.
    focus_pending: bool,
}

impl FilePrompt {
    /// The action of the open prompt, if one is open.
    pub fn action(&self) -> Option<FileAction> {
        self.action
    }

    /// Opens the prompt for `action`, its path starting in the folder last used (else the one the scenario came
    /// from, else the working directory) with the action's default file name, made from `scenario_name`.
    pub fn open(&mut self, action: FileAction, origin: &str, scenario_name: &str) {
        let dir = self.last_dir.clone().or_else(|| {
            let parent = Path::new(origin).parent()?;
            (!parent.as_os_str().is_empty() && parent.is_dir()).then(|| parent.to_path_buf())
        });
        let dir = match (action.is_recording(), dir) {
            // The shipped recordings are where a first "Open recording" most likely wants to look.
            (true, None) if Path::new("scenarios/recordings").is_dir() => Some(PathBuf::from("scenarios/recordings")),
            (_, dir) => dir,
        };
        let name = action.default_name(scenario_name);
        self.path = match dir {
            Some(dir) => dir.join(&name).display().to_string(),
            None => name,
        };
        if !action.writes() && !self.path.is_empty() && !self.path.ends_with(std::path::MAIN_SEPARATOR) {
            self.path.push(std::path::MAIN_SEPARATOR);
        }
        self.action = Some(action);
        self.error = None;
        self.browse_returned_nothing = false;
        self.focus_pending = true;
    }

    fn close(&mut self) {
        self.action = None;
        self.error = None;
        self.browsing = None;
    }

    /// Starts the native dialog on its own thread; `repaint` wakes the window when it returns.
    fn browse(&mut self, action: FileAction, repaint: impl Fn() + Send + 'static) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let start_dir = Path::new(&self.path).parent().filter(|p| p.is_dir()).map(Path::to_path_buf);
        let file_name = Path::new(&self.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let spawned = std::thread::Builder::new().name("file-dialog".into()).spawn(move || {
            let (filter, extensions) =
                if action.is_recording() { ("recording", ["ron"]) } else { ("scenario", ["ron"]) };
            let mut dialog = rfd::FileDialog::new().add_filter(filter, &extensions);
            if let Some(dir) = start_dir {
                dialog = dialog.set_directory(dir);
            }
            let picked = if action.writes() { dialog.set_file_name(file_name).save_file() } else { dialog.pick_file() };
            // The prompt may have been closed meanwhile: nobody to tell, nothing lost.
            let _ = tx.send(picked);
            repaint();
        });
        match spawned {
            Ok(_) => {
                self.browsing = Some(rx);
                self.browse_returned_nothing = false;
            }
            Err(e) => self.error = Some(format!("cannot open the file chooser: {e}")),
        }
    }

    /// Takes the native dialog's answer, if it has come.
    fn poll_browse(&mut self) {
        let Some(rx) = &self.browsing else { return };
        match rx.try_recv() {
            Ok(Some(path)) => {
                self.path = path.display().to_string();
                self.error = None;
                self.browsing = None;
            }
            Ok(None) | Err(TryRecvError::Disconnected) => {
                self.browse_returned_nothing = true;
                self.browsing = None;
            }
            Err(TryRecvError::Empty) => {}
        }
    }

    /// The prompt's window, when open. Enter confirms, Escape closes.
    pub fn prompt_ui(app: &mut HirlApp, ui: &mut egui::Ui) {
        let Some(action) = app.file_prompt.action else { return };
        app.file_prompt.poll_browse();
        let mut open = true;
        let mut confirm = false;
        let mut cancel = false;
        let mut browse = false;
        egui::Window::new(action.title())
            .id(egui::Id::unique("file-prompt"))
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .default_width(560.0)
            .show(ui.ctx(), |ui| {
                let prompt = &mut app.file_prompt;
                ui.horizontal(|ui| {
                    ui.label("File");
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut prompt.path)
                            .desired_width(440.0)
                            .hint_text("path/to/file.ron")
                            .id(egui::Id::unique("file-prompt-path")),
                    );
                    if prompt.focus_pending {
                        field.request_focus();
                        prompt.focus_pending = false;
                    }
                    if field.changed() {
                        prompt.error = None;
                    }
                    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        confirm = true;
                    }
                });
                ui.add_space(4.0);
                let resolved = resolve(&prompt.path);
                if let Some(error) = &prompt.error {
                    ui.colored_label(super::theme::SLO, error);
                } else if let Some(warning) = existing_file_warning(action, &resolved) {
                    ui.colored_label(ui.visuals().warn_fg_color, warning);
                } else {
                    ui.weak(action.help());
                }
                // A relative path is relative to where the program was started, which the user may not know.
                let typed = prompt.path.trim();
                if !typed.is_empty() && resolved.as_path() != Path::new(typed) {
                    ui.weak(format!("= {}", resolved.display()));
                }
                if prompt.browse_returned_nothing {
                    ui.weak("The file chooser returned no file (cancelled, or this desktop has none): type the path.");
                }
                ui.separator();
                ui.horizontal(|ui| {
                    confirm |= ui.button(action.verb()).on_hover_text("Enter").clicked();
                    cancel = ui.button("Cancel").on_hover_text("Esc").clicked();
                    let browsing = prompt.browsing.is_some();
                    let label = if browsing { "Choosing…" } else { "Browse…" };
                    browse = ui
                        .add_enabled(!browsing, egui::Button::new(label))
                        .on_hover_text("Choose with the desktop's file chooser, where it has one")
                        .clicked();
                });
            });
        if browse {
            let ctx = ui.ctx().clone();
            app.file_prompt.browse(action, move || ctx.request_repaint());
        }
        if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            cancel = true;
        }
        if confirm {
            let path = resolve(&app.file_prompt.path);
            match open_or_write(app, action, &path) {
                Ok(()) => {
                    app.file_prompt.last_dir =
                        path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf);
                    app.file_prompt.close();
                }
                Err(e) => app.file_prompt.error = Some(e),
            }
        }
        if !open || cancel {
            app.file_prompt.close();
        }
    }
}

/// The path typed, as the program will use it: trimmed, a leading `~` for the home folder (as in a shell), and a
/// relative path made absolute from the working directory (so the prompt can show where a file really goes).
pub fn resolve(typed: &str) -> PathBuf {
    let typed = typed.trim();
    let home = || std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let path = match (typed.strip_prefix('~'), home()) {
        (Some(""), Some(home)) => home,
        (Some(rest), Some(home)) if rest.starts_with(std::path::MAIN_SEPARATOR) => {
            home.join(rest.trim_start_matches(std::path::MAIN_SEPARATOR))
        }
        _ => PathBuf::from(typed),
    };
    match std::env::current_dir() {
        Ok(cwd) if path.is_relative() && !typed.is_empty() => cwd.join(path),
        _ => path,
    }
}

/// "replaces …" when a write would replace a file, so a Save never surprises; `None` otherwise.
fn existing_file_warning(action: FileAction, path: &Path) -> Option<String> {
    (action.writes() && path.is_file()).then(|| format!("{} exists: {} replaces it.", path.display(), action.verb()))
}

/// Checks the path and does the action. `Err` is the reason, for the prompt; the run is untouched then.
fn confirm_action(app: &mut HirlApp, action: FileAction, path: &Path) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("type a file's path".to_string());
    }
    if path.is_dir() {
        return Err(format!("{} is a folder: add a file name", path.display()));
    }
    if action.writes() {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Err(format!("no folder {}", parent.display()));
        }
    } else if !path.is_file() {
        return Err(format!("no file at {}", path.display()));
    }
    match action {
        FileAction::OpenScenario => {
            let s = scenario::load_file(path).map_err(|e| one_line(&e.to_string()))?;
            app.origin = path.display().to_string();
            app.send(Command::Load { scenario: Box::new(s), origin: app.origin.clone() });
            app.notice = Some(Notice { text: format!("loaded {}", path.display()), is_error: false });
        }
        FileAction::OpenRecording => {
            app.try_open_recording(path)?;
        }
        // The worker writes these (it holds the session and a what-if's own limits); it reports success or failure in
        // the status bar.
        FileAction::SaveScenario => app.send(Command::SaveScenario(path.to_path_buf())),
        FileAction::ExportSession => app.send(Command::Export(path.to_path_buf())),
        FileAction::SaveRecording => app.save_recording_path(path),
    }
    Ok(())
}

/// A loader's message on one line (they name the file, the line and the reason over several).
pub(super) fn one_line(text: &str) -> String {
    text.trim_end().replace('\n', " · ")
}

/// Files dropped onto the window: a `*.rec.ron` file is opened as a recording and anything else as a scenario; a
/// file that is not what its name says is tried as the other before it is refused (with the first reason).
pub fn open_dropped(app: &mut HirlApp, path: &Path) {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let action = if name.ends_with(".rec.ron") { FileAction::OpenRecording } else { FileAction::OpenScenario };
    if let Err(reason) = open_or_write(app, action, path) {
        app.notice = Some(Notice { text: reason, is_error: true });
    }
}

/// Does `action`; an open that fails is tried as the other kind of file (a recording chosen with "Open…", a
/// scenario with "Open recording…"), which the status bar then names. `Err` is the first reason, or the other's
/// where the file's name says it is the other kind (`*.rec.ron` a recording), as a drop goes by: a recording made
/// with other models, chosen with "Open…", says so rather than that it is not a scenario.
fn open_or_write(app: &mut HirlApp, action: FileAction, path: &Path) -> Result<(), String> {
    let other = match action {
        FileAction::OpenScenario => FileAction::OpenRecording,
        FileAction::OpenRecording => FileAction::OpenScenario,
        _ => return confirm_action(app, action, path),
    };
    let first_reason = match confirm_action(app, action, path) {
        Ok(()) => return Ok(()),
        Err(reason) => reason,
    };
    // Only a file that is there and read can be the other kind; a missing one keeps its first reason.
    if !path.is_file() {
        return Err(first_reason);
    }
    if let Err(other_reason) = confirm_action(app, other, path) {
        let named_recording =
            path.file_name().is_some_and(|n| n.to_string_lossy().to_lowercase().ends_with(".rec.ron"));
        let named_other = named_recording == (other == FileAction::OpenRecording);
        return Err(if named_other { other_reason } else { first_reason });
    }
    if let Some(notice) = &mut app.notice {
        let kind = if other == FileAction::OpenRecording { "a recording" } else { "a scenario" };
        notice.text = format!("{} (the file is {kind}, so it was opened as one)", notice.text);
    }
    Ok(())
}

/// While files are dragged over the window, says what dropping them does; takes the dropped ones.
pub fn drop_ui(app: &mut HirlApp, ui: &mut egui::Ui) {
    let (hovering, dropped) = ui.input(|i| (!i.raw.hovered_files.is_empty(), i.raw.dropped_files.clone()));
    if hovering {
        let screen = ui.ctx().content_rect();
        let painter =
            ui.ctx().layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("drop-hint")));
        painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(160));
        painter.text(
            screen.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a scenario (.ron) or a recording (.rec.ron) to open it",
            egui::FontId::proportional(20.0),
            egui::Color32::WHITE,
        );
    }
    // One file at a time makes sense here (each replaces the run): the last one dropped wins, as in most viewers.
    if let Some(path) = dropped.last().map(|f| f.path().to_path_buf()) {
        open_dropped(app, &path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_warn_before_replacing_a_file_and_opens_do_not() {
        let dir = std::env::temp_dir().join(format!("hirl-prompt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("there.ron");
        std::fs::write(&file, "x").unwrap();
        let warning = existing_file_warning(FileAction::SaveScenario, &file).unwrap();
        assert!(warning.contains("Save replaces it"), "{warning}");
        assert!(existing_file_warning(FileAction::ExportSession, &file).unwrap().contains("Export replaces it"));
        assert_eq!(existing_file_warning(FileAction::OpenScenario, &file), None);
        assert_eq!(existing_file_warning(FileAction::SaveScenario, &dir.join("new.ron")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn typed_paths_resolve_as_a_shell_would() {
        let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set for the tests"));
        assert_eq!(resolve("~/runs/a.ron"), home.join("runs/a.ron"));
        assert_eq!(resolve("  ~  "), home);
        assert_eq!(resolve("/tmp/a.ron "), PathBuf::from("/tmp/a.ron"));
        let cwd = std::env::current_dir().expect("a working directory");
        assert_eq!(resolve("scenarios/x.ron"), cwd.join("scenarios/x.ron"));
        assert_eq!(resolve("~user/a.ron"), cwd.join("~user/a.ron"), "another user's home is not guessed");
        assert_eq!(resolve(""), PathBuf::new());
    }

    #[test]
    fn every_action_has_a_title_a_verb_and_help() {
        for action in [
            FileAction::OpenScenario,
            FileAction::SaveScenario,
            FileAction::ExportSession,
            FileAction::OpenRecording,
            FileAction::SaveRecording,
        ] {
            assert!(!action.title().is_empty() && !action.help().is_empty());
            let name = action.default_name("Fraud cascade (P0)");
            assert_eq!(action.writes(), !name.is_empty(), "{action:?}: a write offers a file name");
            assert!(name.is_empty() || name.starts_with("fraud-cascade-p0-"), "{action:?}: {name}");
            assert_eq!(action.writes(), action.verb() != "Open", "{action:?}");
        }
    }
}
