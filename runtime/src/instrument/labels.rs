//! Closed label sets: a label whose values are declared is a Rust enum
//! ([`LabelValue`]), and a tuple of them indexes a [`Family`](super::Family)
//! with no lookup. A value outside the set does not compile.

/// A label whose values are fixed: usually an enum, derived with
/// `#[derive(pme::LabelValue)]` or generated from a spec's `values:`.
///
/// `index` must be below `VALUES.len()` and name the value's position in
/// `VALUES`; the derive guarantees it.
pub trait LabelValue: Copy + Send + Sync + 'static {
    /// Every value, in index order, as written in the exposition.
    const VALUES: &'static [&'static str];

    /// This value's position in [`VALUES`](LabelValue::VALUES).
    fn index(self) -> usize;

    /// The value at `index` in [`VALUES`](LabelValue::VALUES).
    fn from_index(index: usize) -> Option<Self>;

    /// This value as written in the exposition.
    fn as_str(self) -> &'static str {
        Self::VALUES[self.index()]
    }

    /// The value written `text`, if it is one of [`VALUES`](LabelValue::VALUES):
    /// how a string from a request becomes a typed label value.
    fn parse(text: &str) -> Option<Self> {
        Self::from_index(Self::VALUES.iter().position(|v| *v == text)?)
    }
}

/// The label values of one series of a [`Family`](super::Family): one
/// [`LabelValue`], a tuple of up to four, or `()` for none. Every
/// combination is a series, numbered `0..COUNT` in mixed radix (the last
/// label varies fastest).
pub trait LabelSet: Copy + Send + Sync + 'static {
    /// How many labels.
    const LEN: usize;
    /// How many combinations (series).
    const COUNT: usize;

    /// This combination's number.
    fn index(self) -> usize;

    /// The value of label `label` in combination `index`.
    fn value(index: usize, label: usize) -> &'static str;

    /// The combination written `values` (one per label, in order), if
    /// every one is declared.
    fn from_values(values: &[&str]) -> Option<Self>;
}

impl LabelSet for () {
    const LEN: usize = 0;
    const COUNT: usize = 1;

    fn index(self) -> usize {
        0
    }

    fn value(_: usize, _: usize) -> &'static str {
        ""
    }

    fn from_values(values: &[&str]) -> Option<()> {
        values.is_empty().then_some(())
    }
}

impl<A: LabelValue> LabelSet for A {
    const LEN: usize = 1;
    const COUNT: usize = A::VALUES.len();

    fn index(self) -> usize {
        LabelValue::index(self)
    }

    fn value(index: usize, _: usize) -> &'static str {
        A::VALUES[index]
    }

    fn from_values(values: &[&str]) -> Option<A> {
        match values {
            [one] => <A as LabelValue>::parse(one),
            _ => None,
        }
    }
}

/// `LabelSet` for a tuple of `LabelValue`s, in mixed radix.
macro_rules! tuple_label_set {
    ($len:literal; $($t:ident $v:ident),+) => {
        impl<$($t: LabelValue),+> LabelSet for ($($t,)+) {
            const LEN: usize = $len;
            const COUNT: usize = 1 $(* $t::VALUES.len())+;

            fn index(self) -> usize {
                let ($($v,)+) = self;
                let mut index = 0;
                $(index = index * $t::VALUES.len() + $v.index();)+
                index
            }

            fn value(index: usize, label: usize) -> &'static str {
                let radices = [$($t::VALUES.len()),+];
                let values = [$($t::VALUES),+];
                let below: usize = radices[label + 1..].iter().product();
                values[label][index / below % radices[label]]
            }

            fn from_values(values: &[&str]) -> Option<Self> {
                let [$($v),+] = values else {
                    return None;
                };
                Some(($(<$t as LabelValue>::parse($v)?,)+))
            }
        }
    };
}

tuple_label_set!(2; A a, B b);
tuple_label_set!(3; A a, B b, C c);
tuple_label_set!(4; A a, B b, C c, D d);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum Model {
        Small,
        Large,
    }

    impl LabelValue for Model {
        const VALUES: &'static [&'static str] = &["small", "large"];
        fn index(self) -> usize {
            self as usize
        }
        fn from_index(index: usize) -> Option<Model> {
            [Model::Small, Model::Large].get(index).copied()
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Status {
        Ok,
        Error,
        Timeout,
    }

    impl LabelValue for Status {
        const VALUES: &'static [&'static str] = &["ok", "error", "timeout"];
        fn index(self) -> usize {
            self as usize
        }
        fn from_index(index: usize) -> Option<Status> {
            [Status::Ok, Status::Error, Status::Timeout]
                .get(index)
                .copied()
        }
    }

    #[test]
    fn combinations_are_numbered_in_mixed_radix() {
        assert_eq!(<(Model, Status)>::COUNT, 6);
        assert_eq!((Model::Small, Status::Ok).index(), 0);
        assert_eq!((Model::Small, Status::Timeout).index(), 2);
        assert_eq!((Model::Large, Status::Error).index(), 4);
        let every: Vec<(&str, &str)> = (0..6)
            .map(|i| {
                (
                    <(Model, Status)>::value(i, 0),
                    <(Model, Status)>::value(i, 1),
                )
            })
            .collect();
        assert_eq!(
            every,
            [
                ("small", "ok"),
                ("small", "error"),
                ("small", "timeout"),
                ("large", "ok"),
                ("large", "error"),
                ("large", "timeout"),
            ]
        );
        assert_eq!(Model::COUNT, 2);
        assert!(matches!(
            <(Model, Status)>::from_values(&["large", "timeout"]),
            Some((Model::Large, Status::Timeout))
        ));
        assert!(<(Model, Status)>::from_values(&["large"]).is_none());
        assert!(<(Model, Status)>::from_values(&["large", "fine"]).is_none());
        assert_eq!(<Model as LabelSet>::value(1, 0), "large");
        assert_eq!(Status::Timeout.as_str(), "timeout");
        assert!(matches!(Status::parse("error"), Some(Status::Error)));
        assert!(Status::parse("Error").is_none());
    }

    #[test]
    fn every_index_decodes_to_its_own_values() {
        type Four = (Model, Status, Model, Status);
        for i in 0..Four::COUNT {
            let find = |label: usize, values: &[&str]| {
                values
                    .iter()
                    .position(|v| *v == Four::value(i, label))
                    .unwrap()
            };
            let back = (
                [Model::Small, Model::Large][find(0, Model::VALUES)],
                [Status::Ok, Status::Error, Status::Timeout][find(1, Status::VALUES)],
                [Model::Small, Model::Large][find(2, Model::VALUES)],
                [Status::Ok, Status::Error, Status::Timeout][find(3, Status::VALUES)],
            );
            assert_eq!(back.index(), i);
        }
    }
}
