//! Diagnostic: the wall and thread-CPU time of each NVML call collect's sampler makes, on GPU 0
//! (`cargo run --release -p collect --example nvml_cost`). On an H200 with driver 580 the energy
//! counter costs ~3.9 ms of CPU per read and every other call a few microseconds; see
//! `src/sampler/nvml.rs`.
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use std::time::Instant;

fn main() {
    let nvml = Nvml::init().expect("nvml");
    let d = nvml.device_by_index(0).expect("gpu0");
    let n = 300;
    macro_rules! time {
        ($name:expr, $e:expr) => {{
            let c0 = collect::sampler::thread_cpu_s().unwrap_or(0.0);
            let t0 = Instant::now();
            for _ in 0..n {
                let _ = std::hint::black_box($e);
            }
            let wall = t0.elapsed().as_secs_f64() / n as f64 * 1e3;
            let cpu = (collect::sampler::thread_cpu_s().unwrap_or(0.0) - c0) / n as f64 * 1e3;
            println!("{:<28} wall {:8.4} ms  cpu {:8.4} ms", $name, wall, cpu);
        }};
    }
    time!("total_energy_consumption", d.total_energy_consumption());
    time!("power_usage", d.power_usage());
    time!("utilization_rates", d.utilization_rates());
    time!("memory_info", d.memory_info());
    time!("temperature", d.temperature(TemperatureSensor::Gpu));
    time!("clock_info(SM)", d.clock_info(Clock::SM));
    time!("clock_info(Memory)", d.clock_info(Clock::Memory));
    time!("device_by_index", nvml.device_by_index(0));
    use nvml_wrapper::structs::device::FieldId;
    for ids in [
        vec![83u32],
        vec![191],
        vec![186],
        vec![185],
        vec![83, 186],
        vec![191, 186],
    ] {
        let f: Vec<FieldId> = ids.iter().map(|&i| FieldId(i)).collect();
        let v = d.field_values_for(&f);
        println!(
            "fields {ids:?}: {:?}",
            v.as_ref().map(|v| v
                .iter()
                .map(|x| x.as_ref().map(|s| (s.value.as_ref().ok().cloned(), s.latency)))
                .collect::<Vec<_>>())
        );
        time!(format!("field_values {ids:?}"), d.field_values_for(&f));
    }
    time!(
        "/proc/thread-self/schedstat",
        std::fs::read_to_string("/proc/thread-self/schedstat")
    );
}
