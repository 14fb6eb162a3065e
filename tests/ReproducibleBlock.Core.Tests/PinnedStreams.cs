using System.Collections.Generic;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The pinned streams: the output of every scenario of <c>ReproducibleBlock.StreamProbe.Scenarios</c>, recorded once
/// from release 0.1.0 (2026-11-27) and reviewed. These numbers are a promise to users: a change that moves one is a
/// breaking change under the stream policy (README, CHANGELOG.md), never a test to update.
/// </summary>
/// <remarks>
/// Formats: integers in decimal; floats as the hex of their IEEE-754 bits; masks as one 0/1 per element; bytes in hex.
/// </remarks>
internal static class PinnedStreams
{
    /// <summary>Raw generator outputs: the same on every CPU.</summary>
    internal static readonly IReadOnlyDictionary<string, string> EveryCpu = new Dictionary<string, string>
    {
        ["keyed/root/torch"] =
            "randint 1273642419 787846414 1201263687 415968276 1914837113 429389014 | random_ 319800038858 375095422324 425815370599 | rand 3e887d2e 3f20a082 3e8a0d2a 3ee1fa68 | randn bfae6d4e 3fad9fd4 3f2b35b0 bf352c68 bea74611 be8ec001 | bernoulli 100001010001000111100001",
        ["keyed/root/managed"] =
            "ints 1990242130 14 439 3229494516188413193 202 -3 -4512754808713854304 | double 3fed467486550e98 | single 3e472b04 | bytes efa85348469bd18ebce884f629",
        ["keyed/block64/torch"] =
            "randint 936117896 148133074 634692610 1732179892 1803515436 1853717707 | random_ 932972908301 421666210288 955711380173 | rand 3cae15c0 3ea42100 3f1482b9 3c3a4240 | randn bf61665f be225da2 3fae7312 bf70e664 3d8449ea 3f5aa877 | bernoulli 011011001001001111101110",
        ["keyed/block64/managed"] =
            "ints 2083243048 17 307 2788489332725315914 405 4 -7476166291949021270 | double 3fd4edcf30263508 | single 3ecedbd0 | bytes 542ea7875227f57d7eda7093fe",
        ["keyed/nested-1-9/torch"] =
            "randint 792784924 808599842 1153443093 374107277 1330872536 4557356 | random_ 856883390328 1022111162322 551570968230 | rand 3f3df819 3f3cac56 3f4b419d 3ed47822 | randn bf992604 400b1b4a bf40eb5a bec5fcea 3f5d8a75 beed08ca | bernoulli 101010100100010011101100",
        ["keyed/nested-1-9/managed"] =
            "ints 1722382120 18 611 6953664328143874850 218 -1 -4826655761295065981 | double 3fe006cc668dbc6b | single 3f16cb1c | bytes 2b912ea2cbb1206ba3e1689ed5",
        ["keyed/instance300-first/torch"] =
            "randint 72676189 1802076489 1616377852 2107547511 1742331962 570625589 | random_ 95614857816 450680088703 203140419223 | rand 3e6e51c0 3ecbfcc0 3f2d637e 3d786f50 | randn be726fcf 3f46fc38 bf862e5f bf8d0558 bf0cf81d 3f174931 | bernoulli 110100101111101010100100",
        ["keyed/instance300-first/managed"] =
            "ints 165980749 19 468 6188452303312787779 151 -4 -1843117251555480591 | double 3fefd94b0362772b | single 3f0c4631 | bytes d98c250ea049afe708fb58e3b9",
        ["keyed/instance300-second/torch"] =
            "randint 864758081 1513792030 56952482 152024110 710086282 103951870 | random_ 1041777286775 621722249902 234252269330 | rand 3f406f3b 3ef7ce28 3ed498d6 3f4e2b88 | randn 3f7b8bdb 3f1bb86f 3f34554e be3bf8ea be69c262 3f04b47d | bernoulli 111100101001011010000111",
        ["keyed/instance300-second/managed"] =
            "ints 1642891885 15 811 5661421953716609629 107 -1 7234206878948353663 | double 3fc1b2c8b482c2e0 | single 3f35e640 | bytes 434cc38ec944ab6a3701e23f95",
        ["keyed/nested-1-instance300-second/torch"] =
            "randint 1630234841 87285333 1515976738 2004401288 1150382000 253114003 | random_ 565232866386 992320991547 918074632948 | rand 3ecb300c 3e80bd14 3f67efcc 3f174cc1 | randn 3fffd2b2 3fa6c3c4 bfa019f0 bf13f55c 3f0d8f5c bf1e144d | bernoulli 010111111100110010000101",
        ["keyed/nested-1-instance300-second/managed"] =
            "ints 1358876028 11 122 5130061951950695907 523 0 8644930742141115462 | double 3fbe8c57e1ba9088 | single 3f7585b4 | bytes 3b077b3a4c3d0330bd8e16369b",
        ["keyed/block-min/torch"] =
            "randint 306669859 1007512508 608463235 860374630 1602940826 1352057444 | random_ 191392812748 398361314646 792398453915 | rand 3e0e0270 3f6352e1 3f251a1d 3f30b440 | randn bf68563e bde837ab 3f437ccb c048b15b 3ec9cebf bec6e473 | bernoulli 110100100101001101110110",
        ["keyed/block-min/managed"] =
            "ints 1515758564 12 963 2799671565996554578 405 2 -3353594240828568096 | double 3fe8d3874696963f | single 3dc70830 | bytes 19acd4841b58c5b49c193fb774",
        ["keyed/block-max/torch"] =
            "randint 1362759898 1874182534 1160914446 656679435 735065930 273206277 | random_ 129973009870 72971313810 175084819045 | rand 3e7e9a8c 3d444380 3f72f8b0 3dddd170 | randn becc7b7e bf22d7ce 3f616be8 beae09e5 bffb31a6 3d2e671e | bernoulli 010011111011001101111011",
        ["keyed/block-max/managed"] =
            "ints 898607565 12 943 3287752415306788030 855 0 -2626791127159379013 | double 3fe5d59fb9104c95 | single 3ddcf730 | bytes bc278c630cb5fa7679493e497e",
        ["keyed/block-minus1/torch"] =
            "randint 786568057 865822240 1236408530 249254619 1221370000 407799791 | random_ 167344426145 251925201330 217931609475 | rand 3f55de56 3f792bca 3f3dbc71 3e4d4018 | randn bf4f1fb4 bf097b66 bfb76a35 3d607a84 3efcd7de beb1f8b2 | bernoulli 111101001100011110110111",
        ["keyed/block-minus1/managed"] =
            "ints 161325768 17 141 7453314887834679405 961 2 -5876550078582825597 | double 3fde324fabb36d04 | single 3e99b212 | bytes 209f910bcdc6bbafdfdfafff1d",
        ["keyed/restore-inside/torch"] =
            "randint 936117896 148133074 634692610 1732179892 1803515436 1853717707 | random_ 932972908301 421666210288 955711380173 | rand 3cae15c0 3ea42100 3f1482b9 3c3a4240 | randn bf61665f be225da2 3fae7312 bf70e664 3d8449ea 3f5aa877 | bernoulli 011011001001001111101110",
        ["keyed/restore-inside/managed"] =
            "ints 2083243048 17 307 2788489332725315914 405 4 -7476166291949021270 | double 3fd4edcf30263508 | single 3ecedbd0 | bytes 542ea7875227f57d7eda7093fe",
        ["keyed/after-block64/torch"] =
            "randint 798637906 307384810 2080597315 468363731 1704501977 547625570 | random_ 1033467035614 884444852398 550956729017 | rand 3c3a4240 3f10e84e 3f32c5af 3d28dbe0 | randn 3f6522fc bf53eb18 3fa47368 bf02960a 3ec7bf29 401f47f8 | bernoulli 011001001001111101110010",
        ["keyed/after-block64/managed"] =
            "ints 1510282796 13 302 3740960432446807325 944 -5 -3191015013073280527 | double 3fd9db7a1b967a3c | single 3efbea4e | bytes 7eda7093fedfae827037bbeb1c",
        ["keyed/after-restoring-block64/torch"] =
            "randint 996406378 423734972 670094950 669991378 249467210 1572714583 | random_ 500797975651 445422780055 558434158229 | rand 3ee1fa68 3e980602 3f54e957 3dd7af58 | randn 3f3fb9c6 3f8ee6ef 3fa583ee 3ed3d3a9 bf122d04 bf799616 | bernoulli 001010001000111100001010",
        ["keyed/after-restoring-block64/managed"] =
            "ints 975135738 14 350 1870086963153593638 224 -3 7652640729314148932 | double 3fc8e560b8451208 | single 3f0ed19b | bytes bce884f629923da88a7431af96",
        ["keyed/root7-block64/torch"] =
            "randint 2147482788 953968960 918585952 1845475228 846327907 1399029243 | random_ 507527337857 6090122578 658872097048 | rand 3f1867b6 3f2c04e7 3a384400 3f109ff2 | randn be700947 3f109a00 bf9cb0f1 beb6686d 3f766a3a 3fc11a8a | bernoulli 011110001110011011011011",
        ["keyed/root7-block64/managed"] =
            "ints 1940886174 10 153 5402233980132339763 146 -3 -5320473869882866903 | double 3fe89e07ecdc2a7a | single 3e92d000 | bytes 9f25d921ae35cfdc04b29df823",
        ["raa/block0/torch"] =
            "randint 1273642419 787846414 1201263687 415968276 1914837113 429389014 | random_ 319800038858 375095422324 425815370599 | rand 3e887d2e 3f20a082 3e8a0d2a 3ee1fa68 | randn bfae6d4e 3fad9fd4 3f2b35b0 bf352c68 bea74611 be8ec001 | bernoulli 100001010001000111100001",
        ["raa/block0/managed"] =
            "ints 1990242130 14 439 3229494516188413193 202 -3 -4512754808713854304 | double 3fed467486550e98 | single 3e472b04 | bytes efa85348469bd18ebce884f629",
        ["raa/block64/torch"] =
            "randint 56972561 1899242072 271820813 1655351289 68574553 991681409 | random_ 357517482075 475380997051 853023440299 | rand 3f43e9fc 3e98860e 3f4dafae 3ec34044 | randn bf2bb9cf 402f7f32 3f0e89a2 bf4ff5f3 3f992416 3f5c7ea7 | bernoulli 111011011111000111011101",
        ["raa/block64/managed"] =
            "ints 187444840 14 115 5451194526798525745 733 -3 3114058100386745747 | double 3fd2bc302b99e4a4 | single 3f5c21e6 | bytes 650fc773c1903f27356163712c",
        ["raa/nested-3-5/torch"] =
            "randint 423734972 670094950 669991378 249467210 1572714583 434285667 | random_ 445422780055 558434158229 227504030465 | rand 3f54e957 3dd7af58 3e89fb3a 3eb7b64a | randn be86aefb be36d6f3 bf97ca0c bf62d2bf bf370746 3e03183d | bernoulli 101000100011110000101010",
        ["raa/nested-3-5/managed"] =
            "ints 482201260 12 914 1793946371126069897 557 1 1877958810844361865 | double 3fd085ca8feebb06 | single 3efd4cf0 | bytes 16c59133cc9b5672ed0dbd72fa",
        ["raa/instance300-second/torch"] =
            "randint 577034624 776124029 132863028 1923214041 227174085 398129398 | random_ 288110071222 869171047607 525026079120 | rand 3ed8c5fc 3f1a9125 3e1c245c 3ecb3e88 | randn 3f8bf958 be8707f3 be6b13dc 400cd167 bf48c44a c018ddf3 | bernoulli 011011111111011000001001",
        ["raa/instance300-second/managed"] =
            "ints 434330650 13 738 2203933221147431475 606 3 -7723594672927020023 | double 3f9ebd37596fa540 | single 3ef4085c | bytes f854398150dfb094ef085cc10f",
        ["raa/after-block64/torch"] =
            "randint 1999874363 1324556529 1308306184 419498548 791274835 1890440558 | random_ 803683034566 736566176252 30212468654 | rand 3ec34044 3f4938cd 3de46280 3e7d9e8c | randn 3f088138 402fed8a bec4a5e0 bffb2b47 be9e34f8 beda8832 | bernoulli 011011111000111011101111",
        ["raa/after-block64/managed"] =
            "ints 984074669 11 591 6767465302443223357 221 1 -3823344228343048630 | double 3feb843cc085b467 | single 3e1cfe40 | bytes 356163712c0c57a973c83a6231",
        ["raa/after-restoring-block64/torch"] =
            "randint 996406378 423734972 670094950 669991378 249467210 1572714583 | random_ 500797975651 445422780055 558434158229 | rand 3ee1fa68 3e980602 3f54e957 3dd7af58 | randn 3f3fb9c6 3f8ee6ef 3fa583ee 3ed3d3a9 bf122d04 bf799616 | bernoulli 001010001000111100001010",
        ["raa/after-restoring-block64/managed"] =
            "ints 975135738 14 350 1870086963153593638 224 -3 7652640729314148932 | double 3fc8e560b8451208 | single 3f0ed19b | bytes bce884f629923da88a7431af96",
        ["keyed/block5/shuffler"] =
            "5 2 10 0 4 6 7 3 9 8 1 11 | 11 4 8 9 1 3 0 2 6 7 10 5",
        ["keyed/root/shuffler"] =
            "8 2 5 0 9 6 7 1 3 10 4 11 | 5 0 6 1 8 11 3 10 9 4 2 7",
        ["raa/block5/shuffler"] =
            "10 0 5 6 8 3 7 4 1 9 11 2 | 10 7 2 5 11 1 0 8 4 9 3 6",
    };

    /// <summary>Dropout masks through libtorch's generic Bernoulli path (every CPU but Intel's, which uses MKL's).</summary>
    internal static readonly IReadOnlyDictionary<string, string> EveryCpuButIntel = new Dictionary<string, string>
    {
        ["keyed/root/dropout"] =
            "111101001111001010011011110111111100011101110011",
        ["keyed/block64/dropout"] =
            "110011011100100110110010011010111011111011001101",
        ["keyed/nested-1-9/dropout"] =
            "101111001011001011101010011110101110100001010000",
        ["keyed/instance300-second/dropout"] =
            "111101100111101111110111000101101101101011111011",
        ["raa/block64/dropout"] =
            "110001110111001100011010110110101100010011010011",
    };

    /// <summary>Values through vectorised float kernels, with libtorch started under ATEN_CPU_CAPABILITY=default.</summary>
    internal static readonly IReadOnlyDictionary<string, string> DefaultCapability = new Dictionary<string, string>
    {
        ["keyed/root/float-kernels"] =
            "linear 3ee20008 3ef55a64 be0a80e2 3f07c5b4 be018916 3dee9998 be8fea7d 3ead9a4c | randn32 3fe4d642 bef4c25a be78afef bf6f2555 be7e3727 bf9aa6c8 bef490d4 3f052751 bfc89e31 be753140 4014a8da bf769f22 40002793 3eeed032 3fc958f5 bf6c3e83 3eb63341 bf2fc686 befc9934 3e774894 bf8e321b 3dbb7c4a c0144876 be5e020f be9e9487 beca9a91 3f4dac3c bf1f20e0 bf178d55 bd812d24 bf541c22 3ea96b85",
        ["keyed/block64/float-kernels"] =
            "linear 3eadb5a8 3eaf92ca 3c831500 3ec2c13e 3df27668 3ec3781e be52fcac be962f98 | randn32 be19cd9e 3f1cba30 400d66c1 befef456 bf9700d7 3f9a6bb0 bfa7ac76 be80116d 3d83dd61 bf80329b 3e97f1ed 3f8636d8 bf265347 3db0c88f bf13bd16 bf3e4183 bd8df1fd bfd44f2f bfcea4b7 bf265ead 3fcbbc4f 3f9fd6ea 4007ea55 3f8c5f2c 3e904438 c0186009 bf95c308 3caf2766 3c81ac68 bf1a269e 3ee09d7a 3b688717",
        ["keyed/nested-1-9/float-kernels"] =
            "linear 3e98f4e4 be91a2b8 bd8178d0 beb38bb4 bf1097cd 3e9422de 3efc4f04 be6e381e | randn32 bf94125e 3ea3243d bcfbb579 bd84fe6f 3f37bce3 bf1f568b becae326 bf9ebef1 bee4700b 3f545a18 bf1dad06 bf4b2544 c0220390 3ebc856d 3e6ba7cb bece816e 3fa9ec5a be9d1cd7 3fa6a8e2 3e2f3ad7 bfd17f8d bf059312 bf68dc25 3f357ea4 3ed265a3 3f93b7ef 3d2737bd bf489de6 3fbdbf4f bdfd21e0 3e923ede bf01fce3",
        ["keyed/instance300-second/float-kernels"] =
            "linear 3c14f680 3d4e3460 3d4894a0 bea03213 3d92ef20 bdf92d0c beb9a36a bf01ab20 | randn32 3f778171 bf604eee 3bd48ada bf284024 be82a6a7 3f1482b3 3e88b060 bf61f66d 3f1d454a be044e9a bf1bb429 3d87d165 3e1a0708 bfccd4a4 3e9d1383 bf5d51ed 3f0903a9 bf8d2fdb bd803c09 3ee43935 bf47c787 bf90489e 3e77ae1f be3b732f 3f2d4cc5 3f54c61c 3f00679f 3f7fcb42 3f2727ab 3f2308fe be183e53 bd1f9027",
        ["raa/block64/float-kernels"] =
            "linear 3e3527c4 bdf65884 3ef52bc8 beaf3464 beb04c18 beb04ed1 3f04f06c 3e450530 | randn32 3e14d37d 3e6c98bc 3c0dc976 be11b460 3e49ccd0 bf92730c 3ead38ab 3fd97e6a 40341905 3eb8360b bdb7ed67 3eeab8a2 bf107f24 3f8734d8 bfbc0d1c 3fb771a1 3f3a6562 bf35eca1 bf1a2126 3f75dff9 3ecf43d8 bfad5b1f befecb7d 3ef306d1 be4a4d9c 3fa25807 3f9cb4a5 3dc8f1ad 3fdf0223 bfad2467 3e605165 3f0d797b",
    };
}
