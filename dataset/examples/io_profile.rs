//! Times the import's two halves on the published data: EnergiBridge CSV parsing and Parquet
//! writing of the samples (one thread). `cargo run --release -p dataset --example io_profile`.

use std::time::Instant;

fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/datasets/greenlab-angels-2025/experiments/llama_profiling".to_string());
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("dataset folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.truncate(100);
    let t = Instant::now();
    let mut raw = Vec::new();
    for d in &dirs {
        raw.push(std::fs::read(d.join("energibridge.csv.gz")).expect("read"));
    }
    println!("read {} files: {:?}", raw.len(), t.elapsed());
    let t = Instant::now();
    let inflated: Vec<Vec<u8>> = raw
        .iter()
        .map(|r| dataset::energibridge::inflate_gzip(r).expect("gz"))
        .collect();
    println!(
        "inflate: {:?} ({} MB)",
        t.elapsed(),
        inflated.iter().map(Vec::len).sum::<usize>() / 1_000_000
    );
    let t = Instant::now();
    let tables: Vec<_> = inflated
        .iter()
        .map(|b| {
            dataset::energibridge::parse_samples_csv(b, std::path::Path::new("x"))
                .expect("csv")
                .table
        })
        .collect();
    println!("parse: {:?}", t.elapsed());
    let dir = std::env::temp_dir().join("io_profile");
    std::fs::create_dir_all(&dir).expect("tmp");
    let t = Instant::now();
    for (i, tb) in tables.iter().enumerate() {
        tb.write(&dir.join(format!("{i}.parquet")), "run", false)
            .expect("write");
    }
    println!("write parquet: {:?}", t.elapsed());
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    let variants: Vec<(&str, WriterProperties)> = vec![
        (
            "zstd1 no-dict",
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level")))
                .set_dictionary_enabled(false)
                .build(),
        ),
        (
            "snappy dict",
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build(),
        ),
        (
            "snappy no-dict",
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_dictionary_enabled(false)
                .build(),
        ),
        (
            "plain no-dict",
            WriterProperties::builder().set_dictionary_enabled(false).build(),
        ),
        (
            "zstd1 no-dict no-stats",
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level")))
                .set_dictionary_enabled(false)
                .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
                .build(),
        ),
    ];
    for (name, props) in variants {
        let t = Instant::now();
        let mut bytes = 0;
        for (i, tb) in tables.iter().enumerate() {
            let batch = tb.to_batch("run");
            let path = dir.join(format!("v{i}.parquet"));
            let f = std::fs::File::create(&path).expect("create");
            let mut w =
                parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props.clone())).expect("w");
            w.write(&batch).expect("write");
            w.close().expect("close");
            bytes += std::fs::metadata(&path).expect("meta").len();
        }
        println!("{name}: {:?}, {} MB", t.elapsed(), bytes / 1_000_000);
    }
    let t = Instant::now();
    for i in 0..tables.len() {
        dataset::SampleTable::read(&dir.join(format!("{i}.parquet")), true).expect("read");
    }
    println!("read parquet (accounting columns): {:?}", t.elapsed());
}
