//! The desktop window (eframe/egui). Thin: it owns a [`WorkerHandle`], drains frames into a [`Store`] within a small
//! time budget each frame, and draws panels from the store. It never waits on the simulation.

pub mod breach_segments;
mod controls;
pub mod file_prompt;
mod inject_dialog;
pub mod panels;
pub mod plot_lines;
pub mod readout;
mod section;
pub mod store;
pub mod theme;
pub mod timeline_bar;

use std::time::Duration;

use crate::runner::{Command, Update, WorkerConfig, WorkerHandle};

pub use controls::{Controls, SHORTCUTS};
pub use file_prompt::{FileAction, FilePrompt};
pub use inject_dialog::{InjectDialog, InjectKind};

use panels::{
    BreachesPanel, BudgetsPanel, ForecastPanel, LatencyPanel, PanelCtx, PendingPanel, PoolsPanel, ScorecardPanel,
    TimelinePanel,
};
use store::Store;

/// How long one frame may spend applying worker updates. The first one waiting is always applied, however long it
/// takes; the rest wait in the channel for the next frame, and a full channel holds the worker back, so a burst of
/// updates slows the simulation, not the window.
const DRAIN_BUDGET: Duration = Duration::from_millis(2);
/// Screen points per plotted point of a time series (see `run_column_ui`).
const PLOT_PTS_PER_POINT: f32 = 2.5;

/// A message shown in the status bar, with its severity.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

pub struct HirlApp {
    worker: WorkerHandle,
    pub store: Store,
    /// The scenario file the run came from, for titles and dialogs.
    pub origin: String,
    pub notice: Option<Notice>,
    /// Longest time one frame has spent taking worker updates (the UI's only contact with the simulation).
    pub longest_drain: Duration,
    /// How long the last frame spent applying updates (for the frame-time bench).
    pub last_drain: Duration,
    controls: controls::Controls,
    inject: inject_dialog::InjectDialog,
    /// The in-window file prompt behind the toolbar's file buttons.
    pub file_prompt: file_prompt::FilePrompt,
    budgets: BudgetsPanel,
    pools: PoolsPanel,
    pending: PendingPanel,
    latency: LatencyPanel,
    breaches: BreachesPanel,
    forecast: ForecastPanel,
    scorecard: ScorecardPanel,
    timeline: TimelinePanel,
    timeline_bar: timeline_bar::TimelineBar,
    /// The agents the runs were started with: the decision inspector re-runs them for its attribution.
    agents: Result<std::sync::Arc<crate::agents::hirl::HirlNets>, String>,
    /// The models the worker's runs use (they never change while the window is open): a recording is checked against
    /// them before it is sent, so one made with other models is refused in the file prompt, which stays open.
    models: crate::agents::policies::PolicyAssets,
    agents_panel: panels::AgentsPanel,
    inspector: panels::InspectorPanel,
    /// The window title last asked for (sent again only when it changes).
    title: String,
    /// When the panels' numbers follow a playing run.
    readout: readout::ReadoutClock,
}

impl HirlApp {
    /// Starts the worker and builds the window state. `waker` is called by the worker after each update
    /// (`egui::Context::request_repaint` in the window).
    pub fn new(config: WorkerConfig, waker: impl Fn() + Send + 'static) -> std::io::Result<HirlApp> {
        let origin = config.origin.clone();
        let policy = config.policy.clone();
        let store = Store::new(std::sync::Arc::new(config.scenario.clone()));
        let controls = controls::Controls::new(&policy);
        let agents = config.agents.clone();
        let models = crate::agents::policies::PolicyAssets {
            forecaster: config.forecaster.clone(),
            agents: config.agents.clone(),
            ..crate::agents::policies::PolicyAssets::none()
        };
        let worker = WorkerHandle::spawn(config, waker)?;
        Ok(HirlApp {
            worker,
            store,
            origin,
            notice: None,
            longest_drain: Duration::ZERO,
            last_drain: Duration::ZERO,
            controls,
            inject: inject_dialog::InjectDialog::default(),
            file_prompt: file_prompt::FilePrompt::default(),
            budgets: BudgetsPanel::default(),
            pools: PoolsPanel::default(),
            pending: PendingPanel::default(),
            latency: LatencyPanel::default(),
            breaches: BreachesPanel,
            forecast: ForecastPanel::default(),
            scorecard: ScorecardPanel::default(),
            timeline: TimelinePanel::default(),
            timeline_bar: timeline_bar::TimelineBar::default(),
            agents,
            models,
            agents_panel: panels::AgentsPanel,
            inspector: panels::InspectorPanel::default(),
            title: String::new(),
            readout: readout::ReadoutClock::default(),
        })
    }

    /// Sends a command; a full queue becomes a notice, not a wait.
    pub fn send(&mut self, command: Command) {
        if let Err(e) = self.worker.send(command) {
            self.notice = Some(Notice { text: e.to_string(), is_error: true });
        }
    }

    /// Moves the run to exactly `t_secs` (pauses it): back from a snapshot, or forward.
    pub fn seek(&mut self, t_secs: u64) {
        self.send(Command::Seek(t_secs));
    }

    /// Opens a recording file and asks the worker to replay it. A damaged file, or one made with other models or
    /// another scenario version, is refused with the reason and the current run goes on.
    pub fn open_recording_path(&mut self, path: &std::path::Path) {
        if let Err(reason) = self.try_open_recording(path) {
            self.notice = Some(Notice { text: reason, is_error: true });
        }
    }

    /// [`Self::open_recording_path`], with the reason a file is refused (on one line) returned instead of shown.
    pub fn try_open_recording(&mut self, path: &std::path::Path) -> Result<(), String> {
        let recording = crate::replay::Recording::load_file(path).map_err(|e| file_prompt::one_line(&e.to_string()))?;
        // The worker checks it too, but its refusal comes back after the prompt has closed, in the status bar.
        let origin = path.display().to_string();
        crate::runner::check_recording(&recording, &origin, &self.models).map_err(|e| file_prompt::one_line(&e))?;
        self.send(Command::OpenRecording { recording: Box::new(recording), origin });
        self.notice = Some(Notice { text: format!("replaying {}", path.display()), is_error: false });
        Ok(())
    }

    /// Asks the worker to write the session as a recording.
    pub fn save_recording_path(&mut self, path: &std::path::Path) {
        self.send(Command::SaveRecording(path.to_path_buf()));
    }

    /// Applies what the worker has sent, within the frame's [`DRAIN_BUDGET`].
    fn drain_updates(&mut self) {
        self.drain_updates_within(DRAIN_BUDGET);
    }

    /// Applies updates until `budget` is spent, and at least one if any has arrived (so the window always moves
    /// on); returns how many it applied. The budget is checked after each update, so one that takes longer than the
    /// budget is still applied whole.
    pub fn drain_updates_within(&mut self, budget: Duration) -> usize {
        let start = std::time::Instant::now();
        let mut applied = 0;
        while let Some(update) = self.worker.try_next() {
            self.apply_update(update);
            applied += 1;
            if start.elapsed() >= budget {
                break;
            }
        }
        self.last_drain = start.elapsed();
        self.longest_drain = self.longest_drain.max(self.last_drain);
        applied
    }

    /// How many worker updates wait to be applied.
    pub fn queued_updates(&self) -> usize {
        self.worker.queued()
    }

    fn apply_update(&mut self, update: Update) {
        match update {
            Update::Frame(frame) => {
                let generation = self.store.generation;
                self.store.apply(*frame);
                if self.store.generation != generation {
                    // A new run (a recording opened, a policy switched): the toolbar shows what actually runs, by
                    // the names its menu and commands use (not "hirl (HPA fallback)").
                    self.controls.follow_runs(&self.store.policies);
                }
                if self.origin != self.store.origin && !self.store.origin.is_empty() {
                    self.origin = self.store.origin.clone();
                }
            }
            Update::Error(text) => self.notice = Some(Notice { text, is_error: true }),
            Update::Notice(text) => self.notice = Some(Notice { text, is_error: false }),
            Update::ScenarioWritten(text) => self.notice = Some(Notice { text, is_error: false }),
            Update::RecordingSaved(path) => {
                self.notice = Some(Notice { text: format!("recording saved to {path}"), is_error: false })
            }
        }
    }

    /// The whole window, inside any `Ui` (eframe's root, or a test harness).
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        self.drain_updates();
        self.readout.follow(&mut self.store, std::time::Instant::now());
        self.follow_title(ui.ctx());
        controls::Controls::shortcuts_ui(self, ui);
        egui::Panel::top("toolbar").show(ui, |ui| controls::Controls::toolbar_ui(self, ui));
        egui::Panel::top("timeline-bar").show(ui, |ui| timeline_bar::TimelineBar::timeline_bar_ui(self, ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        inject_dialog::InjectDialog::dialog_ui(self, ui);
        controls::Controls::keys_ui(self, ui);
        file_prompt::FilePrompt::prompt_ui(self, ui);
        file_prompt::drop_ui(self, ui);
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| self.panels_ui(ui));
        });
    }

    /// The window's title names the scenario and the runs ("HiRL-Scale — fraud-cascade — hpa vs hirl"), so two
    /// windows side by side on a trainer's screen, or in the task bar, say which is which.
    pub fn window_title(&self) -> String {
        let runs = match self.store.policies.as_slice() {
            [] => self.controls.policy().to_string(),
            runs => runs.join(" vs "),
        };
        format!("HiRL-Scale — {} — {runs}", self.store.scenario.name)
    }

    fn follow_title(&mut self, ctx: &egui::Context) {
        let title = self.window_title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let s = &self.store;
            ui.label(format!("{} — {}", s.scenario.name, self.origin));
            ui.separator();
            ui.label(format!("t = {} ({})", format_duration(s.now_secs), s.clock_label(s.now_secs)))
                .on_hover_text("Simulated time since the scenario's start, and the scenario's wall clock");
            if let Some(n) = &self.notice {
                ui.separator();
                let colour = if n.is_error { theme::SLO } else { ui.visuals().text_color() };
                // The button first and the text cut at the window's edge (hover shows it whole): a long reason (a
                // refused drop's, with the file and the models' digests) ran past the edge, and the button with it.
                let dismiss = ui.small_button("×").on_hover_text("Dismiss").clicked();
                ui.add(egui::Label::new(egui::RichText::new(&n.text).color(colour)).truncate());
                if dismiss {
                    self.notice = None;
                }
            }
        });
    }

    fn panels_ui(&mut self, ui: &mut egui::Ui) {
        let runs = self.store.runs.len().max(1);
        let plot_height = 150.0;
        if runs == 1 {
            self.run_column_ui(ui, 0, plot_height);
        } else {
            ui.columns(runs, |cols| {
                for (run, col) in cols.iter_mut().enumerate() {
                    // Tables wider than half the window scroll inside their column instead of spilling over.
                    egui::ScrollArea::horizontal()
                        .id_salt(("run-column", run))
                        .show(col, |ui| self.run_column_ui(ui, run, plot_height));
                }
            });
        }
    }

    fn run_column_ui(&mut self, ui: &mut egui::Ui, run: usize, plot_height: f32) {
        // At most a point every 2.5 points of column: ~600 a line across a 1,500-point window, half that in each half
        // side by side, where more would land on the same pixels and only cost frame time. A long run's lines keep
        // each stretch's lowest and highest point (`RunSeries::line`), so that is between half and all of it.
        let column_right = Some(ui.max_rect().right());
        let max_points = ((ui.max_rect().width() / PLOT_PTS_PER_POINT) as usize).clamp(100, 600);
        let ctx = PanelCtx { store: &self.store, run, plot_height, max_points, column_right };
        if let Some(series) = ctx.series() {
            ui.heading(format!("policy: {}", series.policy));
        }
        let width = ui.available_width();
        let section = |ui: &mut egui::Ui, title, open, add: &mut dyn FnMut(&mut egui::Ui)| {
            section::section_ui(ui, title, run, open, width, add);
        };
        section(ui, "Scorecard", true, &mut |ui| self.scorecard.scorecard_ui(ui, &ctx));
        section(ui, "Domain budgets and reserve", true, &mut |ui| self.budgets.budgets_ui(ui, &ctx));
        section(ui, "Latency p99 vs SLO, and traffic", true, &mut |ui| self.latency.latency_ui(ui, &ctx));
        section(ui, "What held the breaches", true, &mut |ui| self.breaches.breaches_ui(ui, &ctx));
        section(ui, "Pending pods", true, &mut |ui| self.pending.pending_ui(ui, &ctx));
        section(ui, "Node pools and provisioner", true, &mut |ui| self.pools.pools_ui(ui, &ctx));
        section(ui, "Forecast intervals", true, &mut |ui| self.forecast.forecast_ui(ui, &ctx));
        section(ui, "Event timeline", false, &mut |ui| self.timeline.timeline_ui(ui, &ctx));
        // Shown once the run exists, so "open when the run keeps records" is decided on its real policy.
        if self.store.policies.get(run).is_some_and(|p| panels::inspector::keeps_records(p)) {
            section(ui, "About the agents", false, &mut |ui| self.agents_panel.agents_ui(ui, &ctx, &self.agents));
        }
        if let Some(policy) = ctx.series().map(|s| s.policy.as_str()) {
            let brain = panels::inspector::brain_for(policy, &self.agents);
            let open = panels::inspector::keeps_records(policy);
            section(ui, "Decision inspector", open, &mut |ui| self.inspector.inspector_ui(ui, &ctx, brain.as_ref()));
        }
        // A timeline row's time clicked: go there (as a click on the timeline bar does).
        if let Some(t) = self.timeline.take_seek() {
            self.seek(t);
        }
    }
}

impl eframe::App for HirlApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }
}

/// "2h 05m 10s".
pub fn format_duration(secs: u64) -> String {
    format!("{}h {:02}m {:02}s", secs / 3600, (secs % 3600) / 60, secs % 60)
}

/// Opens the window (blocks until it is closed).
pub fn run_window(config: WorkerConfig) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1500.0, 950.0]).with_title("HiRL-Scale"),
        ..Default::default()
    };
    eframe::run_native(
        "HiRL-Scale",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let app = HirlApp::new(config, move || ctx.request_repaint())?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
