//! Training-time exploration: the seeded noise around the brain's mean action (held per Soldier domain when asked),
//! and the decisions it keeps for PPO ([`Transition`]). Nothing here runs outside training.

use crate::sim::rng::SimRng;

/// Training-time exploration: actions are sampled around the brain's mean from a seeded stream, and every decision
/// is kept as a [`Transition`].
#[derive(Clone, Debug)]
pub struct Exploration {
    pub rng: SimRng,
    /// Sample the Commander's / the Soldiers' actions (else take the mean).
    pub commander: bool,
    pub soldiers: bool,
    /// σ of multiplicative log-normal noise on every forecast (the last curriculum stage).
    pub forecast_noise_sigma: f32,
    /// A Soldier's exploration noise is drawn once and held this long, simulated seconds (0: a fresh draw at every
    /// decision). See [`super::super::train::TrainConfig::soldier_noise_hold_secs`] for why.
    pub soldier_noise_hold_secs: u64,
    /// Per Soldier domain: the noise held and the time its hold ends (private: only [`Self::noise`] keeps it).
    held_noise: Vec<(u64, Vec<f32>)>,
    pub transitions: Vec<Transition>,
}

impl Exploration {
    /// Sampling from `rng` at the levels asked for (`commander`, `soldiers`), with forecast noise of σ
    /// `forecast_noise_sigma` and Soldier noise held `soldier_noise_hold_secs`; no transitions yet.
    pub fn new(
        rng: SimRng,
        commander: bool,
        soldiers: bool,
        forecast_noise_sigma: f32,
        soldier_noise_hold_secs: u64,
    ) -> Self {
        Self {
            rng,
            commander,
            soldiers,
            forecast_noise_sigma,
            soldier_noise_hold_secs,
            held_noise: Vec::new(),
            transitions: Vec::new(),
        }
    }

    /// The standard-normal noise of one decision with `dims` action components: a fresh draw from `rng` (in component
    /// order), or, for a Soldier under `soldier_noise_hold_secs`, the draw it holds until the hold ends.
    pub(super) fn noise(&mut self, level: Level, t_secs: u64, dims: usize) -> Vec<f32> {
        let rng = &mut self.rng;
        let mut draw = || (0..dims).map(|_| rng.fast_normal()).collect::<Vec<f32>>();
        let d = match level {
            Level::Soldier(d) if self.soldier_noise_hold_secs > 0 => d,
            _ => return draw(),
        };
        if self.held_noise.len() <= d {
            self.held_noise.resize(d + 1, (0, Vec::new()));
        }
        let (until, held) = &mut self.held_noise[d];
        if held.len() != dims || t_secs >= *until {
            *held = draw();
            *until = t_secs + self.soldier_noise_hold_secs;
        }
        held.clone()
    }
}

/// Which level made a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Commander,
    Soldier(usize),
}

/// One sampled decision, for PPO.
#[derive(Clone, Debug)]
pub struct Transition {
    pub level: Level,
    pub t_secs: u64,
    pub obs: Vec<f32>,
    pub action: Vec<f32>,
    pub log_prob: f32,
    pub value: f32,
    /// What the teacher would have done (behaviour cloning).
    pub teacher: Vec<f32>,
}

/// Log-density of `x` under a diagonal Gaussian.
pub fn gaussian_log_prob(x: &[f32], mean: &[f32], log_std: &[f32]) -> f32 {
    let half_ln_2pi = 0.5 * (2.0 * std::f32::consts::PI).ln();
    x.iter()
        .zip(mean)
        .zip(log_std)
        .map(|((x, m), ls)| {
            let z = (x - m) / ls.exp();
            -0.5 * z * z - ls - half_ln_2pi
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exploration(hold_secs: u64) -> Exploration {
        Exploration::new(SimRng::new(5, 7), true, true, 0.0, hold_secs)
    }

    #[test]
    fn soldier_noise_is_held_for_its_window_and_each_domain_has_its_own() {
        let mut ex = exploration(60);
        let first = ex.noise(Level::Soldier(2), 100, 4);
        assert_eq!(ex.noise(Level::Soldier(2), 150, 4), first, "held within 60 s");
        let other = ex.noise(Level::Soldier(0), 150, 4);
        assert_ne!(other, first, "another domain draws its own");
        assert_ne!(ex.noise(Level::Commander, 150, 4), first, "the Commander is never held");
        assert_ne!(ex.noise(Level::Soldier(2), 160, 4), first, "a new draw once the hold ends");
        assert_eq!(ex.noise(Level::Soldier(0), 200, 4), other, "domain 0's hold runs to 210 s");
    }

    #[test]
    fn without_a_hold_every_decision_draws_afresh_in_the_old_order() {
        let mut ex = exploration(0);
        let mut rng = SimRng::new(5, 7);
        for t in [0, 10, 10, 20] {
            let want: Vec<f32> = (0..3).map(|_| rng.fast_normal()).collect();
            assert_eq!(ex.noise(Level::Soldier(1), t, 3), want);
        }
    }
}
